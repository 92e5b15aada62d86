// Command go-client is the nats.go conformance check of the NATS suites (issue 20): it
// connects to the server at the URL given as its only argument with the official Go client
// (nats.go, Debian's golang-github-nats-io-go-nats-dev) and prints one line per check,
// "NAME ok" or "NAME FAIL: reason", in a fixed order. It exits 1 if any check failed and 2 if
// it could not connect. test/nats/go-client.test.ts builds and runs it.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// wait is how long a check waits for one message.
const wait = 2 * time.Second

type check struct {
	name string
	run  func(nc *nats.Conn, base string) error
}

var checks = []check{
	{"pubsub", checkPubSub},
	// * matches exactly one token; > one or more, not the prefix itself.
	{"wildcard-star", wildcard(".*", []string{"", ".a.b", ".a"}, []string{".a"})},
	{"wildcard-gt", wildcard(".>", []string{"", ".a", ".a.b.c"}, []string{".a", ".a.b.c"})},
	{"queue", checkQueue},
	{"request-headers", checkRequestHeaders},
	{"no-responders", checkNoResponders},
	{"unsubscribe-max", checkAutoUnsubscribe},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-client nats://HOST:PORT")
		os.Exit(2)
	}
	nc, err := nats.Connect(os.Args[1], nats.Timeout(wait), nats.NoReconnect())
	if err != nil {
		fmt.Printf("connect FAIL: %v\n", err)
		os.Exit(2)
	}
	defer nc.Close()
	fmt.Println("connect ok")
	// Subjects unique to this run, so runs against one server do not meet.
	base := "go." + nats.NewInbox()[len("_INBOX."):]
	failed := false
	for _, c := range checks {
		if err := c.run(nc, base+"."+c.name); err != nil {
			fmt.Printf("%s FAIL: %v\n", c.name, err)
			failed = true
		} else {
			fmt.Printf("%s ok\n", c.name)
		}
	}
	if failed {
		os.Exit(1)
	}
}

// Every byte value and an empty payload arrive unchanged, on the subject they were sent to.
func checkPubSub(nc *nats.Conn, subject string) error {
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		return err
	}
	payload := make([]byte, 256)
	for i := range payload {
		payload[i] = byte(i)
	}
	if err := nc.Publish(subject, payload); err != nil {
		return err
	}
	if err := nc.Publish(subject, nil); err != nil {
		return err
	}
	for _, want := range [][]byte{payload, {}} {
		msg, err := sub.NextMsg(wait)
		if err != nil {
			return err
		}
		if msg.Subject != subject || !bytes.Equal(msg.Data, want) {
			return fmt.Errorf("got %q on %q, want %d bytes", msg.Data, msg.Subject, len(want))
		}
	}
	return nil
}

// received publishes to each of subjects, flushes, and lists what sub got.
func received(nc *nats.Conn, sub *nats.Subscription, subjects ...string) ([]string, error) {
	for _, s := range subjects {
		if err := nc.Publish(s, []byte(s)); err != nil {
			return nil, err
		}
	}
	if err := nc.Flush(); err != nil {
		return nil, err
	}
	var got []string
	for {
		msg, err := sub.NextMsg(0)
		if errors.Is(err, nats.ErrTimeout) {
			return got, nil
		} else if err != nil {
			return nil, err
		}
		got = append(got, msg.Subject)
	}
}

// wildcard is the check that a subscription to base+pattern, when base+each of sent is
// published, gets base+each of want, in that order, and nothing else.
func wildcard(pattern string, sent, want []string) func(*nats.Conn, string) error {
	return func(nc *nats.Conn, base string) error {
		sub, err := nc.SubscribeSync(base + pattern)
		if err != nil {
			return err
		}
		var subjects []string
		for _, suffix := range sent {
			subjects = append(subjects, base+suffix)
		}
		got, err := received(nc, sub, subjects...)
		if err != nil {
			return err
		}
		if len(got) != len(want) {
			return fmt.Errorf("got %v", got)
		}
		for i, suffix := range want {
			if got[i] != base+suffix {
				return fmt.Errorf("got %v", got)
			}
		}
		return nil
	}
}

// Two members of one queue group share the messages (each exactly once); a plain
// subscription gets them all.
func checkQueue(nc *nats.Conn, subject string) error {
	const count = 50
	var members []*nats.Subscription
	for i := 0; i < 2; i++ {
		sub, err := nc.QueueSubscribeSync(subject, "workers")
		if err != nil {
			return err
		}
		members = append(members, sub)
	}
	plain, err := nc.SubscribeSync(subject)
	if err != nil {
		return err
	}
	for i := 0; i < count; i++ {
		if err := nc.Publish(subject, []byte(strconv.Itoa(i))); err != nil {
			return err
		}
	}
	for i := 0; i < count; i++ {
		msg, err := plain.NextMsg(wait)
		if err != nil {
			return fmt.Errorf("plain subscription: %v after %d", err, i)
		}
		if string(msg.Data) != strconv.Itoa(i) {
			return fmt.Errorf("plain subscription: got %q, want %d", msg.Data, i)
		}
	}
	var shared []int
	for _, sub := range members {
		for {
			msg, err := sub.NextMsg(0)
			if errors.Is(err, nats.ErrTimeout) {
				break
			} else if err != nil {
				return err
			}
			n, _ := strconv.Atoi(string(msg.Data))
			shared = append(shared, n)
		}
	}
	sort.Ints(shared)
	if len(shared) != count {
		return fmt.Errorf("the group got %d messages, want %d", len(shared), count)
	}
	for i, n := range shared {
		if n != i {
			return fmt.Errorf("the group got %v", shared)
		}
	}
	return nil
}

// A request carries headers to the responder, whose reply carries headers back.
func checkRequestHeaders(nc *nats.Conn, subject string) error {
	_, err := nc.Subscribe(subject, func(msg *nats.Msg) {
		reply := nats.NewMsg(msg.Reply)
		reply.Header.Set("Seen", msg.Header.Get("Ask"))
		reply.Header["Multi"] = msg.Header.Values("Multi")
		reply.Data = append([]byte("echo:"), msg.Data...)
		_ = msg.RespondMsg(reply)
	})
	if err != nil {
		return err
	}
	if err := nc.Flush(); err != nil {
		return err
	}
	request := nats.NewMsg(subject)
	request.Header.Set("Ask", "question-1")
	request.Header.Add("Multi", "one")
	request.Header.Add("Multi", "two")
	request.Data = []byte("ping")
	reply, err := nc.RequestMsg(request, wait)
	if err != nil {
		return err
	}
	multi := reply.Header.Values("Multi")
	if string(reply.Data) != "echo:ping" || reply.Header.Get("Seen") != "question-1" ||
		len(multi) != 2 || multi[0] != "one" || multi[1] != "two" {
		return fmt.Errorf("got %q with headers %v", reply.Data, reply.Header)
	}
	return nil
}

// A request nobody subscribes to fails at once with ErrNoResponders (a 503 status).
func checkNoResponders(nc *nats.Conn, subject string) error {
	start := time.Now()
	_, err := nc.Request(subject, []byte("x"), wait)
	if !errors.Is(err, nats.ErrNoResponders) {
		return fmt.Errorf("got %v, want %v", err, nats.ErrNoResponders)
	}
	if elapsed := time.Since(start); elapsed >= wait {
		return fmt.Errorf("took %v: the timeout, not a 503", elapsed)
	}
	return nil
}

// AutoUnsubscribe(2) delivers two messages, then none.
func checkAutoUnsubscribe(nc *nats.Conn, subject string) error {
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		return err
	}
	if err := sub.AutoUnsubscribe(2); err != nil {
		return err
	}
	for i := 0; i < 5; i++ {
		if err := nc.Publish(subject, []byte(strconv.Itoa(i))); err != nil {
			return err
		}
	}
	if err := nc.Flush(); err != nil {
		return err
	}
	for i := 0; i < 2; i++ {
		msg, err := sub.NextMsg(wait)
		if err != nil {
			return fmt.Errorf("message %d: %v", i, err)
		}
		if string(msg.Data) != strconv.Itoa(i) {
			return fmt.Errorf("got %q, want %d", msg.Data, i)
		}
	}
	if msg, err := sub.NextMsg(0); err == nil {
		return fmt.Errorf("a third message arrived: %q", msg.Data)
	}
	return nil
}
