/** Every resource kind, by the task name a playbook uses for it. */
import type { TaskKind } from '../playbook/tasks.js';
import { address } from './address/index.js';
import { boot } from './boot/index.js';
import { drain, undrain } from './drain/index.js';
import { wait } from './wait/index.js';
import { file } from './file/index.js';
import { ipvs } from './ipvs/index.js';
import { keepalived } from './keepalived/index.js';
import { ldirectord } from './ldirectord/index.js';
import { marks } from './marks/index.js';
import { packages } from './package/index.js';
import type { Resource } from './resource.js';
import { service } from './service/index.js';
import { shell } from './shell/index.js';
import { sysctl } from './sysctl/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry is typed by its own module
export const RESOURCES: { [K in TaskKind]: Resource<K, any, any> } = {
  sysctl, address, ipvs, marks, boot, file, ldirectord, keepalived, drain, undrain, wait, package: packages, service, shell,
};
