package sandbox

import "time"

// Option configures a sandbox at [Start].
type Option func(*options)

type options struct {
	clock      func() time.Time
	minSession time.Duration
}

// WithClock makes the sandbox read the time from clock, so tests can move
// time forward and watch temporary keys expire. The default is time.Now.
func WithClock(clock func() time.Time) Option {
	return func(o *options) { o.clock = clock }
}

// WithMinSessionDuration lowers the shortest DurationSeconds AssumeRole
// accepts, so a session can expire within a test. The default, as on AWS,
// is 15 minutes; values are rounded down to whole seconds and anything
// below one second counts as one second.
func WithMinSessionDuration(d time.Duration) Option {
	return func(o *options) { o.minSession = max(d.Truncate(time.Second), time.Second) }
}

func (o options) minSessionSeconds() int {
	if o.minSession == 0 {
		return 900
	}
	return int(o.minSession / time.Second)
}
