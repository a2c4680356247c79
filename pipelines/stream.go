package pipelines

import (
	"context"
)

// stream runs a warehouse read on its own goroutine and hands its items
// over a channel, so a job can merge several reads that all come in USCC
// order while each backend decodes its rows in parallel with the job.
type stream[T any] struct {
	items  chan T
	done   chan struct{}
	err    error
	head   T
	peeked bool
	ended  bool
}

// streamBuffer is the items a stream reads ahead.
const streamBuffer = 1024

// startStream starts read; its emit blocks until the job takes the item or
// ctx ends.
func startStream[T any](ctx context.Context, read func(ctx context.Context, emit func(T) error) error) *stream[T] {
	s := &stream[T]{items: make(chan T, streamBuffer), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.items)
		s.err = read(ctx, func(v T) error {
			select {
			case s.items <- v:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
	}()
	return s
}

// peek is the next item without taking it; false once the read ended.
func (s *stream[T]) peek() (T, bool) {
	if !s.peeked && !s.ended {
		s.head, s.peeked = <-s.items
		s.ended = !s.peeked
	}
	return s.head, s.peeked
}

// take is the next item.
func (s *stream[T]) take() (T, bool) {
	v, ok := s.peek()
	var zero T
	s.head, s.peeked = zero, false
	return v, ok
}

// close drains what is left, waits for the read to end and returns its
// error. The caller cancels ctx first when it stops early.
func (s *stream[T]) close() error {
	for range s.items {
	}
	<-s.done
	return s.err
}
