import { describe, expect, test } from "bun:test";
import {
  AllowList,
  cidrContains,
  formatAddress,
  parseAddress,
  parseAllowListText,
  parseCidr,
} from "../../src/net/cidr.ts";

function contains(range: string, address: string): boolean {
  const parsed = parseAddress(address);
  if (parsed === undefined) throw new Error(`bad test address ${address}`);
  return cidrContains(parseCidr(range), parsed);
}

describe("parseAddress", () => {
  test.each([
    ["0.0.0.0", "0.0.0.0"],
    ["127.0.0.1", "127.0.0.1"],
    ["255.255.255.255", "255.255.255.255"],
    ["::", "::"],
    ["::1", "::1"],
    ["2001:db8::1", "2001:db8::1"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["fe80::1%eth0", "fe80::1"],
    ["[::1]", "::1"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1::", "1::"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    // IPv4-mapped addresses are the IPv4 address: both spellings give the same 128 bits.
    ["::ffff:10.1.2.3", "10.1.2.3"],
    ["::FFFF:10.1.2.3", "10.1.2.3"],
    ["::ffff:a01:203", "10.1.2.3"],
    ["0:0:0:0:0:ffff:10.1.2.3", "10.1.2.3"],
  ])("%s -> %s", (text, formatted) => {
    const address = parseAddress(text);
    expect(address).toBeDefined();
    expect(formatAddress(address as NonNullable<typeof address>)).toBe(formatted);
  });

  test.each([
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
    "1.2.3.-1",
    "01.2.3.4", // leading zero: octal in some parsers, refused rather than guessed
    "1.2.3.4 x",
    "1.2.3.a",
    " . . . ",
    ":::",
    "1:::2",
    "1::2::3",
    "12345::",
    "g::1",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8::", // `::` must stand for at least one group
    "::1.2.3.4:5", // a dotted quad only at the end
    "1.2.3.4::",
    "::ffff:256.1.1.1",
    "localhost",
  ])("refuses %p", (text) => {
    expect(parseAddress(text)).toBeUndefined();
  });
});

describe("parseCidr", () => {
  test("IPv4 ranges live at ::ffff:0:0/96 + n", () => {
    expect(parseCidr("10.0.0.0/8")).toMatchObject({ prefix: 104, family: 4, text: "10.0.0.0/8" });
    expect(parseCidr("0.0.0.0/0")).toMatchObject({ prefix: 96, family: 4 });
    expect(parseCidr("192.168.1.7")).toMatchObject({ prefix: 128, family: 4 });
    expect(parseCidr("::/0")).toMatchObject({ prefix: 0, family: 6 });
    expect(parseCidr("::1")).toMatchObject({ prefix: 128, family: 6 });
    expect(parseCidr(" 2001:db8::/32 ")).toMatchObject({ prefix: 32, text: "2001:db8::/32" });
  });

  test("host bits under the prefix are cleared", () => {
    expect(formatAddress(parseCidr("10.1.2.3/8").network)).toBe("10.0.0.0");
    expect(formatAddress(parseCidr("2001:db8:ffff::1/32").network)).toBe("2001:db8::");
    expect(formatAddress(parseCidr("10.255.255.255/9").network)).toBe("10.128.0.0");
  });

  test.each([
    ["10.0.0.0/33", "prefix length must be 0 to 32"],
    ["::/129", "prefix length must be 0 to 128"],
    ["10.0.0.0/", "prefix length"],
    ["10.0.0.0/08", "prefix length"],
    ["10.0.0.0/-1", "prefix length"],
    ["10.0.0.0/8/8", "prefix length"],
    ["10.0.0/8", "not an IPv4 or IPv6 address"],
    ["example.com/8", "not an IPv4 or IPv6 address"],
    ["fe80::/10%eth0", "prefix length"],
    ["fe80::%eth0/10", "zone"],
    ["", "not an IPv4 or IPv6 address"],
  ])("refuses %p (%s)", (text, why) => {
    expect(() => parseCidr(text)).toThrow(why);
  });
});

describe("cidrContains", () => {
  test.each([
    ["10.0.0.0/8", "10.0.0.0", true],
    ["10.0.0.0/8", "10.255.255.255", true],
    ["10.0.0.0/8", "11.0.0.0", false],
    ["10.0.0.0/8", "9.255.255.255", false],
    ["127.0.0.1/32", "127.0.0.1", true],
    ["127.0.0.1/32", "127.0.0.2", false],
    ["127.0.0.1", "127.0.0.1", true],
    ["192.168.0.0/23", "192.168.1.255", true],
    ["192.168.0.0/23", "192.168.2.0", false],
    ["0.0.0.0/0", "203.0.113.9", true],
    ["0.0.0.0/0", "::1", false], // every IPv4 peer, no IPv6 one
    ["0.0.0.0/0", "2001:db8::1", false],
    ["::/0", "2001:db8::1", true],
    ["::/0", "10.1.2.3", true], // IPv4 peers are mapped into it
    ["::1", "::1", true],
    ["::1", "::2", false],
    ["::1", "127.0.0.1", false],
    ["2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["2001:db8::/32", "2001:db9::", false],
    ["2001:db8::/33", "2001:db8:7fff::1", true],
    ["2001:db8::/33", "2001:db8:8000::1", false],
    ["fe80::/10", "febf::1", true],
    ["fe80::/10", "fec0::1", false],
    ["fe80::/10", "fe80::1%eth0", true],
    // IPv4-mapped peers (a dual-stack listener on ::) match IPv4 ranges, and the reverse.
    ["10.0.0.0/8", "::ffff:10.1.2.3", true],
    ["10.0.0.0/8", "::ffff:11.1.2.3", false],
    ["127.0.0.1/32", "::ffff:127.0.0.1", true],
    ["::ffff:10.0.0.0/104", "10.200.0.1", true],
    ["::ffff:10.0.0.0/104", "11.0.0.1", false],
    ["::ffff:0:0/96", "192.0.2.1", true],
    ["::ffff:0:0/96", "::1", false],
  ])("%s contains %s: %p", (range, address, expected) => {
    expect(contains(range, address)).toBe(expected);
  });

  test("every IPv4 prefix length against a reference computation", () => {
    const address = (0xc0a8_8142 >>> 0) as number; // 192.168.129.66
    const text = (value: number) =>
      [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
    for (let prefix = 0; prefix <= 32; prefix++) {
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      const range = `${text((address & mask) >>> 0)}/${prefix}`;
      // Flip each bit: inside the range exactly when the bit is below the prefix.
      for (let bit = 0; bit < 32; bit++) {
        const flipped = (address ^ (1 << bit)) >>> 0;
        const inside = 31 - bit >= prefix;
        expect([range, text(flipped), contains(range, text(flipped))]).toEqual([
          range,
          text(flipped),
          inside,
        ]);
      }
      expect(contains(range, text(address))).toBe(true);
      expect(contains(range, `::ffff:${text(address)}`)).toBe(true);
    }
  });

  test("every IPv6 prefix length against a reference computation", () => {
    const base = "2001:db8:1234:5678:9abc:def0:1357:2468";
    const parsed = parseAddress(base) as NonNullable<ReturnType<typeof parseAddress>>;
    for (let prefix = 0; prefix <= 128; prefix++) {
      const range = parseCidr(`${base}/${prefix}`);
      expect(cidrContains(range, parsed)).toBe(true);
      for (let bit = 0; bit < 128; bit += 7) {
        const word = Math.floor(bit / 32);
        const flipped = [...parsed] as [number, number, number, number];
        flipped[word] = ((flipped[word] as number) ^ (1 << (31 - (bit % 32)))) >>> 0;
        expect([prefix, bit, cidrContains(range, flipped)]).toEqual([prefix, bit, bit >= prefix]);
      }
    }
  });
});

describe("AllowList", () => {
  const list = AllowList.parse(["127.0.0.1/32", "10.0.0.0/8", "::1", "2001:db8::/32"]);

  test("allows what any range contains, as Bun reports peers", () => {
    for (const peer of ["127.0.0.1", "::ffff:127.0.0.1", "10.9.8.7", "::1", "2001:db8::42"]) {
      expect([peer, list.allows(peer)]).toEqual([peer, true]);
    }
    for (const peer of ["127.0.0.2", "::ffff:127.0.0.2", "192.168.1.1", "::2", "2001:db9::1"]) {
      expect([peer, list.allows(peer)]).toEqual([peer, false]);
    }
  });

  test("an address it cannot parse, or none, is never allowed", () => {
    expect(list.allows(undefined)).toBe(false);
    expect(list.allows("")).toBe(false);
    expect(list.allows("not an address")).toBe(false);
    expect(AllowList.parse(["::/0"]).allows("garbage")).toBe(false);
  });

  test("an empty list allows nobody", () => {
    expect(AllowList.parse([]).allows("127.0.0.1")).toBe(false);
  });

  test("prints the ranges as written", () => {
    expect(list.toString()).toBe("127.0.0.1/32,10.0.0.0/8,::1,2001:db8::/32");
  });

  test("names the first bad range", () => {
    expect(() => AllowList.parse(["10.0.0.0/8", "10.0.0.0/40"])).toThrow(
      "'10.0.0.0/40': the prefix length must be 0 to 32",
    );
  });
});

describe("parseAllowListText", () => {
  test("one range per line, comments, blank lines, commas and spaces", () => {
    const text = [
      "# office",
      "10.0.0.0/8   # the VPN",
      "",
      "192.168.1.0/24, 192.168.2.0/24",
      "  ::1\t2001:db8::/32  ",
      "",
    ].join("\n");
    expect(parseAllowListText(text)).toEqual([
      "10.0.0.0/8",
      "192.168.1.0/24",
      "192.168.2.0/24",
      "::1",
      "2001:db8::/32",
    ]);
  });

  test("names the line of a bad range", () => {
    expect(() => parseAllowListText("10.0.0.0/8\n\n10.0.0.300\n")).toThrow(
      "line 3: '10.0.0.300' is not an IPv4 or IPv6 address or CIDR range",
    );
  });

  test("an empty file is an empty list", () => {
    expect(parseAllowListText("# nobody yet\n")).toEqual([]);
  });
});
