/**
 * ansible-core's parse_address(text, allow_ranges=True) (ansible/parsing/utils/addresses.py), as
 * split_host_pattern asks it whether a string without a comma is one host identifier, kept whole,
 * rather than terms joined by colons: a host name, an IPv4 or an IPv6 address, each with [x:y]
 * ranges, with an optional :port (in brackets for IPv6). Its expressions are transcribed with their
 * quirks, so that the same strings stay whole here as there. Notably its IPv6 expression is anchored
 * only at its two ends (`^first|...|last$`), and re.match anchors only the start: most alternatives
 * accept any string that starts like an IPv6 address, so `::` and `2001:db8::x` are one term there.
 */

const NUMERIC_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const V6 = `(?:[0-9a-f]{1,4}|${HEX_RANGE})`;
const V4 = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUMERIC_RANGE})`;
// Python's \w on text is Unicode's letters and digits (str.isalnum) and _
const WORD = String.raw`[\p{L}\p{N}_]`;
const LABEL = String.raw`(?:${WORD}|${ALNUM_RANGE})(?:${WORD}|[_-]|${ALNUM_RANGE})*(?<![_-])`;

/** Python's re.match: at the start of the string, not necessarily to its end (each expression says `$` where it means it). */
const atStart = (source: string, flags = ''): RegExp => new RegExp(`^(?:${source})`, flags);

const BRACKETED_HOSTPORT = atStart(String.raw`^\[(.+)\]:([0-9]+)$`);
const HOSTPORT = atStart(String.raw`^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$`);
const HOSTS = [
  atStart(String.raw`^(?:${V4}\.){3}${V4}$`, 'i'),
  atStart(
    [
      `^(?:${V6}:){7}${V6}`,
      `(?:${V6}:){1,6}:`,
      `(?:${V6}:)(?::${V6}){1,6}`,
      `(?:${V6}:){2}(?::${V6}){1,5}`,
      `(?:${V6}:){3}(?::${V6}){1,4}`,
      `(?:${V6}:){4}(?::${V6}){1,3}`,
      `(?:${V6}:){5}(?::${V6}){1,2}`,
      `(?:${V6}:){6}(?::${V6})`,
      `:(?::${V6}){1,6}`,
      `${V6}?::`,
      String.raw`(?:0:){6}(?:${V6}\.){3}${V6}`,
      String.raw`::(?:ffff:)?(?:${V6}\.){3}${V6}`,
      String.raw`(?:0:){5}ffff:(?:${V6}\.){3}${V6}$`,
    ].join('|'),
    'i',
  ),
  atStart(String.raw`^${LABEL}(?:\.${LABEL})*$`, 'iu'),
];

/** Whether parse_address(text, allow_ranges=True) returns rather than raises. */
export function isOneAddress(text: string): boolean {
  let address = text;
  // both port forms are tried in turn, the second on what the first left (as there)
  for (const form of [BRACKETED_HOSTPORT, HOSTPORT]) address = form.exec(address)?.[1] ?? address;
  return address !== '' && HOSTS.some((form) => form.test(address));
}
