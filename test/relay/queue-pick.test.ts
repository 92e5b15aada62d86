/** Queue member choice (src/relay/queue-pick.ts). */
import { expect, test } from "bun:test";
import { pickMember } from "../../src/relay/queue-pick.ts";

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
