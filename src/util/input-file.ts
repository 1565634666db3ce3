/**
 * Reading a file the user hands lvsplay (inventory, playbook, template): a regular file only (a
 * FIFO would hang the run, /dev/zero would fill memory), at most a documented size, valid UTF-8
 * (a replacement character silently standing in for a byte is a value nobody wrote).
 */
import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';

/** The largest inventory, playbook or template lvsplay reads (docs/inventory.md says so). */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

export class InputFileError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** The same, keeping a byte order mark at the start as the text's first character (U+FEFF). */
const utf8KeepingBom = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The file's text. Opened with O_NONBLOCK so that opening a FIFO returns at once (then refused as
 * not a regular file) and, with `noFollow`, O_NOFOLLOW so a symlink at the path itself is refused.
 * A UTF-8 byte order mark at the start is dropped (YAML allows one), unless `keepBom`: a file
 * another program reads byte for byte (keepalived.conf, ldirectord.cf, an ipvsadm save) is read as
 * that program reads it, where the mark is part of the first word.
 */
export function readInputFile(path: string, options: { maxBytes?: number; noFollow?: boolean; keepBom?: boolean } = {}): string {
  const max = options.maxBytes ?? MAX_INPUT_BYTES;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (options.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputFileError(code === 'ELOOP' ? 'is a symbolic link, which is refused here' : `cannot be read (${code ?? (err as Error).message})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new InputFileError('is not a regular file');
    if (stat.size > max) throw new InputFileError(`is ${stat.size} bytes, more than the ${max} bytes lvsplay reads`);
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, buffer, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    try {
      return (options.keepBom ? utf8KeepingBom : utf8).decode(buffer.subarray(0, read));
    } catch {
      throw new InputFileError(`is not valid UTF-8 (at byte ${firstBadByte(buffer.subarray(0, read))})`);
    }
  } finally {
    closeSync(fd);
  }
}

/** Offset of the first byte that makes the text invalid UTF-8, for the message. */
function firstBadByte(buffer: Buffer): number {
  let lo = 0;
  let hi = buffer.length;
  // The longest valid prefix, by bisection (a prefix may end mid-character: allow 3 bytes of slack).
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}
