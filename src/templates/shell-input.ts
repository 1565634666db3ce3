/**
 * What a simple command does with its standard input, or with a process substitution's file it is
 * given, when that is code to it: a shell reading its program there (`sh`, `bash -s`, `ssh HOST`,
 * `at`), xargs or parallel making it a shell's command string, `read` into a name declared `-i`
 * (bash evaluates it as arithmetic), a command running the file as its program (`source FILE`,
 * `bash FILE`, `awk -f FILE`). Part of the shell-template check: shell-flow.ts follows a value
 * to the commands that read it and asks this module what they do.
 */

import { words } from './program-text.js';

/** Where a simple command's name starts: after reserved words (`time -p` and `coproc` too) and `NAME=value` prefixes (`while IFS= read`). */
export const COMMAND_START = '^\\s*(?:(?:!|if|while|until|then|do|else|elif|time(?:\\s+-p)?|coproc)\\s+|\\w+=\\S*\\s+)*';
/** A simple command's start (COMMAND_START), maybe through `command` or `builtin`. */
export const BUILTIN_START = `${COMMAND_START}(?:(?:command|builtin)\\s+)*`;
/** ssh's options: flags, and those taking a word (attached or not). */
export const SSH_OPTIONS = '(?:-[46AaCfGgKkMNnqsTtVvXxYy]*(?:[BbcDEeFIiJLlmOopQRSWw]\\s*\\S+)?\\s+)*';

/** A process substitution's file among a stage's words (`sh <(...)`), where fileUse looks for it. */
export const PROCESS_FILE = '\u0003';

export interface InputUse {
  /** What the command does with its input, after "a command that". */
  use: string;
  /** Whether the value is run as code or evaluated as arithmetic (the advice differs). */
  kind: 'code' | 'arithmetic';
}

/**
 * What a simple command does with its standard input when that is code to it: runs it (a shell,
 * `ssh HOST`, `at`: readsProgram), or reads it into a name the template declares `-i`, which bash
 * evaluates as arithmetic (`read n`).
 */
export function inputUse(stage: string, integers: ReadonlySet<string>): InputUse | undefined {
  if (readsProgram(stage)) return { use: 'runs its standard input as shell code (sh, bash -s, ssh HOST, at), which runs the value', kind: 'code' };
  if (commandFromInput(stage)) return { use: "turns its input into a shell's command string (xargs sh -c, xargs -I{} sh -c 'echo {}', parallel with no command), which runs the value", kind: 'code' };
  if (runsStdin(stage)) return { use: 'runs its standard input as a program (perl, python, ruby, node, php or lua given no program or "-"; source, sh, awk -f or sed -f given /dev/stdin), which runs the value', kind: 'code' };
  if (CRONTAB_STDIN.test(stage)) return { use: 'installs it as a crontab (crontab -), whose lines cron runs as shell commands', kind: 'code' };
  const named = readNames(stage).find((name) => integers.has(name));
  if (named) return { use: `reads it into ${named}, declared -i in this template, which bash evaluates as arithmetic (running a $(...) in the value)`, kind: 'arithmetic' };
  return undefined;
}

/** What a simple command does with its `index`th process substitution file (PROCESS_FILE among its words) when that is code to it. */
export function fileUse(stage: string, index: number): InputUse | undefined {
  if (runsFile(stage, index)) return { use: 'runs that file as a program (sh FILE, source FILE, bash --rcfile FILE, awk -f FILE, python FILE, at -f FILE), which runs the value', kind: 'code' };
  return undefined;
}

/**
 * Whether a simple command runs its `index`th process substitution file as a program: a shell's
 * script operand or `--rcfile`, `source`'s, `at -f`'s, awk's or sed's `-f`, or an interpreter's
 * script operand (perl, python... given no program option).
 */
function runsFile(stage: string, index: number): boolean {
  let seen = -1;
  const marked = stage.replaceAll(PROCESS_FILE, () => (++seen === index ? PROCESS_FILE : 'x'));
  const m = FILE_RUNNER.exec(marked);
  if (!m) return false;
  const name = m[1] ?? m[2]!;
  const list = words(m[3]!);
  const after = (option: RegExp): boolean => list.some((w, i) => option.test(w) && list[i + 1] === PROCESS_FILE);
  const firstOperand = (): string | undefined => list.filter((w, i) => !/^[-+]|^\d*[<>]/.test(w) && !/^\d*[<>]+&?$/.test(list[i - 1] ?? ''))[0];
  if (name === 'source' || name === '.') return list.find((w) => w !== '--') === PROCESS_FILE;
  if (name === 'at' || name === 'batch') return after(/^-[A-Za-z]*f$/);
  if (/awk$|^sed$/.test(name)) return after(/^-[A-Za-z]*f$|^--file$/);
  if (SHELLS.test(name)) {
    if (after(/^--(?:rcfile|init-file)$/)) return true;
    if (list.some((w) => /^-[A-Za-z]*[cs]/.test(w))) return false; // operands are -c's $0 and $1, or -s's arguments
  } else if (list.some((w) => /^-[A-Za-z]*[eEcmr]$|^--(?:eval|print)/.test(w))) {
    return false; // an interpreter given its program (-e, -c, -m...): the operands are its arguments
  }
  return firstOperand() === PROCESS_FILE;
}

/** `read`, `mapfile` or `readarray`, and its words. */
const READER = new RegExp(`${BUILTIN_START}(read|mapfile|readarray)((?:\\s+\\S+)*)\\s*$`);

/** The names a `read` command assigns to (its operands, and `-a`'s array), or the array `mapfile`/`readarray` fills. */
export function readNames(stage: string): string[] {
  const m = READER.exec(stage);
  if (!m) return [];
  const list = words(m[2]!);
  const takesWord = m[1] === 'read' ? /^-[A-Za-z]*[dinNptu]$/ : /^-[A-Za-z]*[dnOsuCc]$/;
  const names: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const word = list[i]!;
    if (/^\d*[<>]+&?$/.test(word)) i++; // a redirection and its word
    else if (takesWord.test(word)) i++; // an option and its argument
    else if (m[1] === 'read' && /^-[A-Za-z]*a$/.test(word)) names.push(list[++i] ?? '');
    else if (!/^-|^\d*[<>]/.test(word)) names.push(word);
  }
  return m[1] === 'read' ? names : [names.at(-1) ?? 'MAPFILE'];
}

/**
 * Whether a simple command runs its standard input as a program given as a file: a file
 * operand that is standard input (`source /dev/stdin`, `bash /dev/fd/0`, `awk -f /dev/stdin`,
 * `python3 -`), as runsFile judges a process substitution's; or an interpreter given no program
 * at all (`perl`, `python3`, `node`: they read it from standard input).
 */
function runsStdin(stage: string): boolean {
  let files = 0;
  const marked = stage.replaceAll(PROCESS_FILE, 'x').replace(STDIN_FILE, () => (files++, PROCESS_FILE));
  for (let i = 0; i < files; i++) if (runsFile(marked, i)) return true;
  return INTERPRETER.test(stage) && runsFile(`${marked} ${PROCESS_FILE}`, files);
}

/**
 * Whether a simple command reads its program from standard input: a shell given no `-c` and no
 * script file (or given `-s`), maybe behind `sudo`, `env`, `timeout`... (WRAPPERS); a command that
 * starts one (SHELL_STARTER: `sudo -s`, `su`, `chroot DIR`); `ssh HOST` with no remote command;
 * or `at`/`batch` without `-f`.
 */
function readsProgram(stage: string): boolean {
  if (SHELL_STARTER.test(stage)) return true;
  const m = STDIN_READER.exec(stage);
  if (!m) return false;
  const list = words(m[2]!);
  if (m[1] === 'at' || m[1] === 'batch') return !list.some((w) => /^-[A-Za-z]*f/.test(w));
  if (m[1] === 'ssh') {
    // with no remote command the login shell reads it; with one, the remote shell joins its words
    // and runs them, with this input: `ssh HOST sh`, `ssh HOST sudo bash -s` read it as code
    const remote = SSH_REMOTE.exec(stage);
    if (!remote) return SSH_LOGIN.test(stage);
    // -N runs no command, -s a subsystem, -W forwards the input to a port
    if (words(remote[1]!).some((w) => /^-[46AaCfGgKkMNnqsTtVvXxYy]*[NsW]/.test(w))) return false;
    return inputUse(remote[2]!, NO_NAMES)?.kind === 'code';
  }
  let fromStdin = false;
  for (let i = 0; i < list.length; i++) {
    const word = list[i]!;
    if (/^\d*[<>]/.test(word)) {
      if (/^\d*[<>]+&?$/.test(word)) i++; // a redirection's word apart: `2> /dev/null`
      continue;
    }
    if (word === '--' || !/^[-+]/.test(word)) return fromStdin; // operands: a script file, unless -s
    if (/^[-+][oO]$|^--(?:rcfile|init-file)$/.test(word)) i++;
    else if (/^-[A-Za-z]*c/.test(word)) return false; // the program is -c's string (shell-check's codePlace)
    else if (/^-[A-Za-z]*s/.test(word)) fromStdin = true;
  }
  return true;
}

/**
 * Whether a simple command builds a shell's command string from its input: `xargs sh -c` (the
 * first input word is -c's string), `xargs -I R sh -c STRING` with no words after STRING (R can
 * only be in it: a safe form passes R as `$1`), and `parallel` with no command (each line is one).
 * `xargs -a FILE` reads no standard input.
 */
function commandFromInput(stage: string): boolean {
  if (PARALLEL_ALONE.test(stage)) return true;
  const m = XARGS.exec(stage);
  if (!m) return false;
  const list = words(m[1]!);
  let replace = false;
  let i = 0;
  for (; i < list.length && /^-/.test(list[i]!); i++) {
    const word = list[i]!;
    if (word === '--') {
      i++;
      break;
    }
    if (/^-[0prtx]*a|^--arg-file/.test(word)) return false;
    if (/^-[0prtx]*[Ii]|^--replace/.test(word)) replace = true;
    if (/^-[0prtx]*[dEILnPs]$|^--(?:delimiter|eof|max-lines|max-args|max-procs|max-chars)$/.test(word)) i++; // its argument apart
  }
  const shell = XARGS_SHELL.exec(list.slice(i).join(' '));
  if (!shell) return false;
  const options = words(shell[1]!);
  const c = options.findIndex((w) => /^-[A-Za-z]*c/.test(w));
  if (c < 0) return false;
  const after = options.length - c - 1; // -c's string, then $0, $1...
  return after === 0 || (replace && after === 1);
}

/**
 * What runs a command given after it, each with its options and fixed operands: `sudo`, `env`,
 * `nohup`..., `timeout DURATION`, `chroot DIR`, `flock FILE`, `taskset MASK`, `chrt PRIO`,
 * `ip netns exec NAME`, `runuser -u USER --`, `nsenter`, `unshare`, `setpriv`, `busybox`
 * (an expansion where sudo's options or timeout's duration go may be one: `timeout ${t} sh`),
 * `docker`/`podman`/`nerdctl exec CONTAINER`, `kubectl`/`oc exec POD --`; and
 * `NAME=value` prefixes. A word matches one alternative only, so a long run of them is no search.
 */
const WRAPPERS = String.raw`^\s*(?:(?:\S*/)?(?:sudo|doas)(?:\s+-[A-Za-z]*[ugCDhpRrTU]\s+\S+|\s+-\S+|\s+\$\S+)*\s+|(?:\S*/)?(?:env|nice|nohup|command|exec|setsid|stdbuf|ionice|time|unshare|setpriv|busybox)(?:\s+-\S+)*\s+|(?:\S*/)?nsenter(?:\s+-\S+(?:\s+\d+)?)*\s+|(?:\S*/)?timeout(?:\s+-[ks]\s+\S+|\s+-\S+)*\s+(?:\d[\d.]*[smhd]?|\$\S+)\s+|(?:\S*/)?(?:chroot|flock|taskset|chrt)(?:\s+-\S+)*\s+[^-\s]\S*\s+|(?:\S*/)?runuser(?:\s+-[ugG]\s+\S+|\s+-\S+)*\s+|(?:\S*/)?ip(?:\s+-[A-Za-z]+(?:\s+[^-\s]\S*)?)*\s+netns\s+exec\s+\S+\s+|(?:\S*/)?(?:docker|podman|nerdctl)\s+exec(?:\s+-[A-Za-z]*[uewl]\s+\S+|\s+--(?:user|env|workdir|env-file)\s+\S+|\s+-\S+)*\s+[^-\s]\S*\s+|(?:\S*/)?(?:kubectl|oc)\s+exec\s+(?:[^-\s]\S*\s+|-\S+\s+)*?--\s+|\w+=\S*\s+)*`;
/**
 * A command that starts a shell when given no command, which then reads its program from standard
 * input: `sudo -s`/`-i`, `su` (without `-c`), `chroot DIR`, `unshare`, `nsenter`, `script`.
 */
const SHELL_STARTER = new RegExp(`${WRAPPERS}(?:(?:\\S*/)?(?:sudo|doas)(?:\\s+-\\S+)*\\s+-[A-Za-z]*[si][A-Za-z]*(?:\\s+-\\S+)*|(?:\\S*/)?su(?:\\s+(?!-[A-Za-z]*c|--command)\\S+)*|(?:\\S*/)?chroot(?:\\s+-\\S+)*\\s+\\S+|(?:\\S*/)?(?:unshare|nsenter)(?:\\s+-\\S+(?:\\s+\\d+)?)*|(?:\\S*/)?script(?:\\s+-\\S+)*(?:\\s+\\S+)?)\\s*$`);
/** The shells the check knows, by name (a path before it is allowed where the patterns say so), and `$SHELL`, `$BASH`. */
export const SHELL_NAMES = 'sh|bash|dash|ash|ksh|mksh|zsh|\\$SHELL|\\$BASH';
const SHELLS = new RegExp(`^(?:${SHELL_NAMES})$`);
/** A simple command's name behind WRAPPERS (the first word that is none of them), and its words. */
const STDIN_READER = new RegExp(`${WRAPPERS}(?:\\S*/)?(${SHELL_NAMES}|at|batch|ssh)((?:\\s+\\S+)*)\\s*$`);
/** The same for the commands runsFile knows (interpreters with their version: python3, perl5.36). */
const FILE_RUNNER = new RegExp(`${WRAPPERS}(?:(source|\\.)|(?:\\S*/)?(${SHELL_NAMES}|at|batch|[gmn]?awk|sed|perl|ruby|python|node|nodejs|php|lua)[\\d.]*)((?:\\s+\\S+)*)\\s*$`);
/** A word naming standard input as a file: a program operand there is read from the pipe. */
const STDIN_FILE = /(?<=^|\s)(?:\/dev\/stdin|\/dev\/fd\/0|\/proc\/self\/fd\/0|-)(?=\s|$)/g;
/** An interpreter (behind WRAPPERS) that reads its program from standard input when given none. */
const INTERPRETER = new RegExp(`${WRAPPERS}(?:\\S*/)?(?:perl|ruby|python|node|nodejs|php|lua)[\\d.]*(?:\\s|$)`);
/** `crontab -` (maybe `-u USER`): the crontab is read from standard input. */
const CRONTAB_STDIN = new RegExp(`${WRAPPERS}(?:\\S*/)?crontab(?:\\s+-u\\s+\\S+)?\\s+-\\s*$`);
/** The command xargs runs, when it is a shell (behind WRAPPERS), and its words. */
const XARGS_SHELL = new RegExp(`${WRAPPERS}(?:\\S*/)?(?:${SHELL_NAMES})((?:\\s+\\S+)*)\\s*$`);
/** xargs behind WRAPPERS, and its words. */
const XARGS = new RegExp(`${WRAPPERS}(?:\\S*/)?xargs((?:\\s+\\S+)*)\\s*$`);
/** GNU parallel given options only (numbers as their arguments: `-j 4`): it runs each input line as a command. */
const PARALLEL_ALONE = new RegExp(`${WRAPPERS}(?:\\S*/)?parallel(?:\\s+(?:-\\S*|\\d+))*\\s*$`);
/** ssh's options, and its remote command (its words after the destination), when it has one. */
const SSH_REMOTE = new RegExp(`(?:^|\\s)(?:\\S*/)?ssh\\s+(${SSH_OPTIONS})(?:--\\s+)?[^-\\s]\\S*\\s+(\\S.*)$`);
const NO_NAMES: ReadonlySet<string> = new Set();
/** ssh with a destination and no remote command (nor -N, -s or -W): the remote shell reads its program from standard input. */
const SSH_LOGIN = new RegExp(`(?:^|\\s)(?:\\S*/)?ssh\\s+(?!(?:.*\\s)?-[A-Za-z]*[NsW])${SSH_OPTIONS}(?:--\\s+)?[^-\\s]\\S*\\s*$`);
