package xacct

// SetDeleteBufferLimit lets tests force the second-pass delete path.
func SetDeleteBufferLimit(n int) (restore func()) {
	old := deleteBufferLimit
	deleteBufferLimit = n
	return func() { deleteBufferLimit = old }
}
