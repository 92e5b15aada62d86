/**
 * What the program calls itself and its near-miss suggestions (src/cli/program.ts), and the
 * flags every mode shares (src/cli/common-options.ts COMMON_FLAGS).
 */
import { describe, expect, test } from "bun:test";
import { COMMON_FLAGS } from "../../src/cli/common-options.ts";
import { OPTIONS } from "../../src/cli/config.ts";
import { closest, didYouMean, editDistance, programName } from "../../src/cli/program.ts";
import { specsFor as forwardingSpecs } from "../../src/forward/forward-config.ts";
import { specsFor as tunnelSpecs } from "../../src/tunnel/tunnel-config.ts";

describe("programName", () => {
  test("a checkout's src/main.ts is `bun run src/main.ts`", () => {
    expect(programName("/home/me/bun-relay/src/main.ts", "/home/me/bun-relay/src/main.ts")).toBe(
      "bun run src/main.ts",
    );
  });

  test("the package's bin (through node_modules) and a compiled binary are `bun-relay`", () => {
    const installed = "/app/node_modules/bun-relay/src/main.ts";
    expect(programName(installed, installed)).toBe("bun-relay");
    expect(programName("/$bunfs/root/bun-relay", "/usr/local/bin/bun-relay")).toBe("bun-relay");
    expect(programName("B:/~BUN/root/bun-relay.exe", "C:\\bun-relay.exe")).toBe("bun-relay");
    expect(programName("/opt/bin/bun-relay", "/opt/bin/bun-relay")).toBe("bun-relay");
  });
});

describe("near misses", () => {
  test("editDistance counts insertions, deletions and substitutions", () => {
    expect(editDistance("forward", "forward")).toBe(0);
    expect(editDistance("forwrad", "forward")).toBe(2);
    expect(editDistance("max-pendng", "max-pending")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
  });

  test("closest suggests only near misses", () => {
    expect(closest("forwrad", ["forward", "proxy", "tunnel"])).toBe("forward");
    expect(closest("proxi", ["forward", "proxy", "tunnel"])).toBe("proxy");
    expect(closest("listen", ["forward", "proxy", "tunnel"])).toBeUndefined();
    expect(closest("to", ["tls-cert", "host"])).toBeUndefined();
    expect(didYouMean("quite", ["quiet", "host"], "--")).toBe(" (did you mean '--quiet'?)");
    expect(didYouMean("zzz", ["quiet"])).toBe("");
  });
});

test("every mode has the common flags", () => {
  const tables = {
    relay: OPTIONS.map((spec) => spec.flag),
    forward: forwardingSpecs("forward").map((spec) => spec.flag),
    proxy: forwardingSpecs("proxy").map((spec) => spec.flag),
    "tunnel client": tunnelSpecs("client").map((spec) => spec.flag),
    "tunnel server": tunnelSpecs("server").map((spec) => spec.flag),
  };
  const missing = Object.entries(tables).flatMap(([mode, flags]) =>
    COMMON_FLAGS.filter((flag) => !flags.includes(flag)).map((flag) => `${mode}: --${flag}`),
  );
  expect(missing).toEqual([]);
});
