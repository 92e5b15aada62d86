/** Queue member choice (src/relay/queue-pick.ts): round-robin per queue group name. */
import { describe, expect, test } from "bun:test";
import { pickMember, QUEUE_CURSORS_MAX, QueueCursors } from "../../src/relay/queue-pick.ts";

describe("pickMember and QueueCursors", () => {
  test("pickMember wraps around the group", () => {
    const group = ["m0", "m1", "m2"];
    expect([0, 1, 2, 3, 4, 7].map((n) => pickMember(group, n))).toEqual([
      "m0",
      "m1",
      "m2",
      "m0",
      "m1",
      "m1",
    ]);
  });

  test("each group name has its own counter, so interleaved subjects still alternate members", () => {
    const cursors = new QueueCursors();
    const group = ["a", "b"];
    const got: string[] = [];
    for (let message = 0; message < 4; message++) {
      got.push(pickMember(group, cursors.next("workers")));
      cursors.next("other"); // another group's messages in between do not disturb it
    }
    expect(got).toEqual(["a", "b", "a", "b"]);
  });

  test("the counter wraps at 2^31 and stays a valid index", () => {
    const cursors = new QueueCursors();
    (cursors as unknown as { counters: Map<string, number> }).counters.set("q", 0x7fffffff);
    expect([cursors.next("q"), cursors.next("q")]).toEqual([0x7fffffff, 0]);
  });

  test("more than QUEUE_CURSORS_MAX names restart every counter instead of growing", () => {
    const cursors = new QueueCursors();
    cursors.next("first");
    for (let i = 1; i < QUEUE_CURSORS_MAX; i++) cursors.next(`q${i}`);
    expect([cursors.size, cursors.next("first")]).toEqual([QUEUE_CURSORS_MAX, 1]);
    cursors.next("one-too-many");
    expect([cursors.next("first"), cursors.size]).toEqual([0, 2]);
  });
});
