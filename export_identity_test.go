package xacct

import "time"

// SetMinSessionDuration lets tests assume roles for sessions shorter than
// STS allows, to watch credentials expire during a sync.
func SetMinSessionDuration(d time.Duration) (restore func()) {
	old := minSessionDuration
	minSessionDuration = d
	return func() { minSessionDuration = old }
}
