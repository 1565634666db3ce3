/** VRRP helpers shared by the checks and the model: the router id a pair gets when none is set. */
import { createHash } from 'node:crypto';

/**
 * A stable VRRP router id (1..255) from the pair's name: the same name always gets the same id,
 * on every control host and in every lvsplay version (the first 4 bytes of its SHA-256, mod 255).
 */
export function derivedRouterId(pair: string): number {
  return (createHash('sha256').update(pair).digest().readUInt32BE(0) % 255) + 1;
}

/** keepalived's vrrp_instance name for a pair. */
export function vrrpInstance(pair: string): string {
  return `VI_${pair}`;
}
