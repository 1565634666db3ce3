/**
 * Where lvsplay keeps things on a host: its files at fixed places and its records under the
 * inventory's `state_dir`. One list, so that the resources write exactly these and the inventory's
 * check (checks.ts, `ownFilesApart`) can refuse a configured path (`rules_file`, ldirectord's
 * `config_file`, ...) that is one of them: two writers of one file never agree, so every run
 * would change it back and forth (and a boot unit could `ipvsadm -R` an ldirectord.cf).
 */
export const SYSCTL_FILE = '/etc/sysctl.d/90-lvsplay.conf';
export const MODULES_FILE = '/etc/modules-load.d/lvsplay.conf';
export const MARKS_FILE = '/etc/lvsplay/marks.nft';
export const KEEPALIVED_CONF = '/etc/keepalived/keepalived.conf';
export const LDIRECTORD_DROP_IN = '/etc/systemd/system/ldirectord.service.d/lvsplay.conf';

export const NETWORK_UNIT = 'lvsplay-network.service';
export const IPVS_UNIT = 'lvsplay-ipvs.service';
export const MARKS_UNIT = 'lvsplay-marks.service';
/** Every unit lvsplay may install: one a host does not want is retired. */
export const LVSPLAY_UNITS = [NETWORK_UNIT, IPVS_UNIT, MARKS_UNIT];
export const unitPath = (unit: string): string => `/etc/systemd/system/${unit}`;

/** lvsplay's records (resources/record.ts): what it created on a host, one file each. */
export const RECORDS = ['addresses', 'sysctls', 'marks', 'ipvs-services', 'drained'] as const;
export type RecordName = (typeof RECORDS)[number];

export function recordPath(cluster: { stateDir: string }, name: RecordName): string {
  return `${cluster.stateDir}/${name}`;
}

/** lvsplay's own files at fixed places, each with what it is (for messages). */
export const FIXED_FILES: readonly { path: string; what: string }[] = [
  { path: SYSCTL_FILE, what: "lvsplay's sysctl.d file" },
  { path: MODULES_FILE, what: "lvsplay's modules-load.d file" },
  { path: MARKS_FILE, what: "lvsplay's nftables marks" },
  { path: KEEPALIVED_CONF, what: "keepalived's config, which lvsplay writes" },
  { path: LDIRECTORD_DROP_IN, what: "lvsplay's drop-in for ldirectord's unit" },
  ...LVSPLAY_UNITS.map((unit) => ({ path: unitPath(unit), what: `lvsplay's unit ${unit}` })),
];
