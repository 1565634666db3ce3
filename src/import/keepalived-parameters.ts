/**
 * The keywords keepalived 2.2.7 cannot read without a value. Their handlers take the word after
 * the keyword unconditionally, and a line without one is keepalived's config error: it says
 * "Configuration line starting `KEYWORD` is missing a parameter after keyword `KEYWORD`" and exits
 * (status 2), so no running keepalived reads such a file, and the import refuses it at that line.
 * Keywords that stand alone (ops, nopreempt, inhibit_on_failure, persistence_timeout, ...) or that
 * keepalived reports and ignores when bare (router_id, virtualhost, helo_name, ...) are not here.
 * Found with `keepalived -t -e -f FILE`, each keyword of keepalived.conf(5) and its aliases bare in
 * each block below, keeping those where keepalived exits at that line.
 */
import { type Statement, problemAt } from './keepalived-syntax.js';
import type { Problem } from '../util/problems.js';
import { own } from '../util/own.js';

const CHECKER = ['bind_if', 'bind_port', 'bindto', 'connect_ip', 'connect_port', 'connect_timeout', 'delay_before_retry', 'delay_loop', 'fwmark', 'retry', 'warmup'];

/** By the block a keyword stands in (`top` for the file's own level), the keywords that need a value. */
const NEEDS_VALUE: Record<string, ReadonlySet<string>> = {
  top: new Set(['virtual_server', 'virtual_server_group', 'vrrp_script']),
  global_defs: new Set(['bfd_process_name', 'bfd_rlimit_rttime', 'checker_process_name', 'checker_rlimit_rttime', 'config_save_dir', 'nftables_ipvs_priority',
    'nftables_ipvs_start_fwmark', 'nftables_priority', 'process_name', 'random_seed', 'smtp_connect_timeout', 'smtp_server', 'umask', 'vmac_addr_prefix', 'vmac_prefix',
    'vrrp_down_timer_adverts', 'vrrp_garp_interval', 'vrrp_garp_lower_prio_delay', 'vrrp_garp_lower_prio_repeat', 'vrrp_garp_master_delay', 'vrrp_garp_master_refresh',
    'vrrp_garp_master_refresh_repeat', 'vrrp_garp_master_repeat', 'vrrp_gna_interval', 'vrrp_mcast_group4', 'vrrp_mcast_group6', 'vrrp_process_name', 'vrrp_rlimit_rttime',
    'vrrp_startup_delay', 'vrrp_version']),
  vrrp_instance: new Set(['advert_int', 'debug', 'down_timer_adverts', 'garp_lower_prio_delay', 'garp_lower_prio_repeat', 'garp_master_delay', 'garp_master_refresh',
    'garp_master_refresh_repeat', 'garp_master_repeat', 'interface', 'lvs_sync_daemon_interface', 'mcast_dst_ip', 'mcast_src_ip', 'notify', 'notify_backup', 'notify_fault',
    'notify_master', 'notify_master_rx_lower_pri', 'notify_stop', 'preempt_delay', 'priority', 'state', 'unicast_src_ip', 'unicast_ttl', 'version', 'virtual_router_id', 'vrf']),
  authentication: new Set(['auth_pass', 'auth_type']),
  vrrp_script: new Set(['fall', 'interval', 'rise', 'timeout', 'user', 'weight']),
  vrrp_sync_group: new Set(['notify', 'notify_backup', 'notify_fault', 'notify_master', 'notify_stop']),
  virtual_server: new Set(['connect_timeout', 'delay_before_retry', 'delay_loop', 'hysteresis', 'ip_family', 'lb_algo', 'lb_kind', 'lvs_method', 'lvs_sched',
    'persistence_engine', 'persistence_granularity', 'protocol', 'quorum', 'quorum_down', 'quorum_up', 'real_server', 'retry', 'sorry_server', 'warmup', 'weight']),
  real_server: new Set(['connect_timeout', 'delay_before_retry', 'delay_loop', 'lthreshold', 'lvs_method', 'notify_down', 'notify_up', 'retry', 'uthreshold', 'warmup', 'weight']),
  TCP_CHECK: new Set(CHECKER),
  SMTP_CHECK: new Set(CHECKER),
  HTTP_GET: new Set([...CHECKER, 'nb_get_retry']),
  SSL_GET: new Set([...CHECKER, 'nb_get_retry']),
  DNS_CHECK: new Set([...CHECKER, 'name', 'type']),
  MISC_CHECK: new Set(['delay_before_retry', 'delay_loop', 'misc_timeout', 'retry', 'warmup']),
  url: new Set(['digest', 'path']),
};

/** Keywords that need a value only once another has been read in the block: keepalived ignores sorry_server_lvs_method before a sorry_server. */
const NEEDS_VALUE_AFTER: Record<string, Readonly<Record<string, string>>> = { virtual_server: { sorry_server_lvs_method: 'sorry_server' } };

/** By block, the blocks within it that are walked: `authentication` only in a vrrp_instance, and so on. */
const NESTED: Record<string, readonly string[]> = {
  top: ['global_defs', 'vrrp_instance', 'vrrp_sync_group', 'vrrp_script', 'virtual_server'], vrrp_instance: ['authentication'], virtual_server: ['real_server'],
  real_server: ['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'SMTP_CHECK', 'DNS_CHECK', 'MISC_CHECK'], HTTP_GET: ['url'], SSL_GET: ['url'],
};

/** A problem at every line keepalived stops at for a keyword without its value, in the blocks of NESTED. */
export function missingValues(statements: readonly Statement[], within = 'top'): Problem[] {
  return statements.flatMap((s, i) => {
    const after = own(own(NEEDS_VALUE_AFTER, within) ?? {}, s.keyword);
    const needs = own(NEEDS_VALUE, within)?.has(s.keyword) || (after !== undefined && statements.slice(0, i).some((x) => x.keyword === after));
    const here = needs && s.args.length === 0
      ? [problemAt(s, `expected ${s.keyword} VALUE, got ${s.keyword} alone: keepalived 2.2.7 stops reading the file at this line ("missing a parameter after keyword ${s.keyword}", exit 2), so no running keepalived reads it`)]
      : [];
    return s.block && own(NESTED, within)?.includes(s.keyword) ? [...here, ...missingValues(s.block, s.keyword)] : here;
  });
}
