/** The playbook file's shape: a list of plays. Tasks are checked in load.ts against TASK_ARGS. */
import * as z from 'zod';
import { Name, VarValue } from '../inventory/fields.js';

/** Host terms: one string (`web:&dc1:!web3`, or with commas) or a list of them; select.ts splits and checks each term. */
const HostTerms = z.string().min(1).max(1000);
/**
 * Ansible's pct_to_int: text ending in "%" is a percentage, any other value is read with Python's
 * int(), so "3" is 3 hosts, and int() allows blanks around the digits ("25 %" too). 0, which
 * Ansible takes for all hosts at once, and "0%" are refused as likely mistakes in a rollout.
 */
const BATCH = 'expected a host count or a percentage like "25%"';
const COUNT = 'expected a host count of at least 1 (leave serial out for all hosts at once)';
const PERCENT = 'expected a percentage from 1% to 100%, like "25%"';
const BatchSize = z.union([
  z.int().transform((count, ctx) => (count >= 1 ? { count } : refuse(ctx, COUNT))),
  z.string().transform((text, ctx) => {
    const [, digits, percent] = /^\s*\+?(\d+)\s*(%?)$/.exec(text) ?? [];
    if (digits === undefined) return refuse(ctx, BATCH);
    const n = Number(digits);
    if (percent) return n >= 1 && n <= 100 ? { percent: n } : refuse(ctx, PERCENT);
    return n >= 1 ? { count: n } : refuse(ctx, COUNT);
  }),
], { error: BATCH });

function refuse(ctx: z.core.$RefinementCtx, message: string): never {
  ctx.addIssue({ code: 'custom', message, continue: true });
  return z.NEVER;
}

/**
 * Ansible's `percent` field: a number, or text of one with an optional "%" ("25%", "12.5", " 25 %"):
 * its get_validated_value drops the "%" and reads the rest with float(). Over 100 stops nothing
 * there and below 0 stops at the first task, so both are refused here as mistakes.
 */
const PERCENT_EXPECTED = 'expected a percentage from 0 to 100, like 25 or "25%"';
const FailPercentage = z.union([
  z.number({ error: PERCENT_EXPECTED }),
  z.string({ error: PERCENT_EXPECTED }).regex(/^\s*(\d+(\.\d*)?|\.\d+)\s*%?\s*$/, { error: PERCENT_EXPECTED }).transform((v) => Number(v.replace('%', ''))),
], { error: PERCENT_EXPECTED }).pipe(z.number().min(0, { error: PERCENT_EXPECTED }).max(100, { error: PERCENT_EXPECTED }));

export const PlayFile = z.strictObject({
  name: z.string().max(200).optional(),
  hosts: z.union([HostTerms, z.array(HostTerms).min(1)], { error: 'expected a host selector or a list of them' }),
  serial: z.union([BatchSize, z.array(BatchSize).min(1)], { error: 'expected a host count, a percentage, or a list of them' }).optional(),
  max_fail_percentage: FailPercentage.optional(),
  any_errors_fatal: z.boolean().default(false),
  /** Ansible's keyword: an unreachable host is reported but neither fails nor stops the run. */
  ignore_unreachable: z.boolean().default(false),
  vars: z.record(Name, VarValue).default({}),
  /** Tasks are validated one by one against their kind's schema. */
  tasks: z.array(z.record(z.string(), z.unknown(), { error: 'expected a task: a mapping with one task kind' })).min(1),
});

export const PlaybookFile = z.array(PlayFile, { error: 'expected a list of plays' }).min(1);
export type PlayFile = z.output<typeof PlayFile>;
