/** The playbook file's shape: a list of plays. Tasks are checked in load.ts against TASK_ARGS. */
import * as z from 'zod';
import { Name, VarValue } from '../inventory/fields.js';

/** Host terms: one string (`web:&dc1:!web3`, or with commas) or a list of them; select.ts splits and checks each term. */
const HostTerms = z.string().min(1).max(1000);
const BatchSize = z.union([
  z.int().min(1),
  z.string().regex(/^(100|[1-9][0-9]?)%$/, { error: 'expected a percentage like "25%"' }),
], { error: 'expected a host count or a percentage like "25%"' });

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
