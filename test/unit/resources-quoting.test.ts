/**
 * Values that reach a shell are data, never syntax: hostile-but-valid text through `{{q}}` in a
 * user's template, through "$LVSPLAY_VAR_x" where quotes would be literal, in a file's content, in
 * a shell task's check. Also the Templates contract: shell templates checked before rendering,
 * config templates one line per `{{x}}`, strict (a missing value throws, naming it), overridable by
 * the same relative path but never through a symlink out of the folder. The scripts run here only
 * print (printf, cat): no rendered script that changes anything runs on this machine.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import Handlebars from 'handlebars';
import type { FileDesired } from '../../src/resources/file/index.js';
import { checkShellTemplate } from '../../src/templates/shell-check.js';
import { BUILTIN_TEMPLATES, TemplateError, Templates } from '../../src/templates/templates.js';
import { shq } from '../../src/util/shell.js';
import { ctxFor, SUPPORT_TEMPLATES } from '../support/cluster.js';
import { run } from '../support/resources.js';
import { cleanup, runSh, syntaxError, tempDir } from '../support/sh.js';

/** A temp override folder with `files` (relative path → text); returns the folder. */
function overrides(files: Record<string, string>): string {
  const dir = tempDir('lvsplay-tpl-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** `use` a Templates whose one override folder holds `files`; the folder is removed afterwards. */
function withTemplates(files: Record<string, string>, use: (templates: Templates) => void): void {
  const tpl = overrides(files);
  try {
    use(new Templates([tpl]));
  } finally {
    cleanup(tpl);
  }
}

/** Where and why `action` fails with a TemplateError: "line:column message". */
function placeOf(t: ExecutionContext, action: () => unknown, what?: string): string {
  const error = t.throws(action, { instanceOf: TemplateError }, what) as TemplateError;
  return `${error.line}:${error.column} ${error.message}`;
}

test('a value with \'; touch …; \' rendered through {{q}} prints verbatim and runs nothing', (t) => {
  const work = tempDir();
  const tpl = overrides({ 'site/echo.sh.hbs': "printf '%s\\n' {{q vars.evil}}\necho {{q vars.evil}} > out.txt\n" });
  try {
    const marker = join(work, 'pwned');
    const evil = `'; touch ${marker}; '`;
    const o = run('shell', ctxFor('web1', { vars: { evil }, templates: new Templates([tpl]) }), { template: 'site/echo.sh.hbs', check: 'false' }, '');
    t.is(syntaxError(o.script), '');
    const out = runSh(o.script, { cwd: work });
    t.is(out.code, 0, out.stderr);
    t.is(out.stdout, `${evil}\n`);
    t.is(readFileSync(join(work, 'out.txt'), 'utf8'), `${evil}\n`);
    t.false(existsSync(marker), 'the marker file must not be created');
  } finally {
    cleanup(work);
    cleanup(tpl);
  }
});

const HOSTILE = (marker: string) => [
  `$(touch ${marker})`, `\`touch ${marker}\``, '${HOME:?boom}', 'back\\slash\\', '-n', '--', "it's", '"double"',
  `'\\''; touch ${marker}; echo '`, '*', '~root', '!', '#not a comment', ' spaced  out ', '', 'ünïcødé ✓', `;touch ${marker}`, '|| true', '&',
  'EOF', 'LVSPLAY_EOF', '\u001b[8mhidden\u001b[0m',
];

test('other hostile shapes through {{q}}: $(…), backticks, ${…}, backslashes, leading dash, quotes, a heredoc delimiter', (t) => {
  const work = tempDir();
  const tpl = overrides({ 'site/echo.sh.hbs': "printf '[%s]\\n' {{q vars.v}}\n" });
  try {
    const marker = join(work, 'pwned');
    const templates = new Templates([tpl]);
    for (const v of HOSTILE(marker)) {
      const o = run('shell', ctxFor('web1', { vars: { v }, templates }), { template: 'site/echo.sh.hbs', check: 'false' }, '');
      t.is(syntaxError(o.script), '', JSON.stringify(v));
      const out = runSh(o.script, { cwd: work });
      t.is(out.stdout, `[${v}]\n`, JSON.stringify(v));
    }
    t.false(existsSync(marker));
  } finally {
    cleanup(work);
    cleanup(tpl);
  }
});

test('{{q}} refuses a value with a line break (it could end a comment and start a command); "$LVSPLAY_VAR_x" carries it', (t) => {
  const work = tempDir();
  const tpl = overrides({ 'site/comment.sh.hbs': '# for {{q vars.v}}\nprintf \'[%s]\\n\' "$LVSPLAY_VAR_v"\n' });
  try {
    const marker = join(work, 'pwned');
    const v = `x\ntouch ${marker}\n#`;
    const templates = new Templates([tpl]);
    const error = t.throws(() => run('shell', ctxFor('web1', { vars: { v }, templates }), { template: 'site/comment.sh.hbs', check: 'false' }, ''));
    t.regex(error!.message, /q: the value has a line break/);
    t.like(error, { line: 1, column: 7 });
    const fine = overrides({ 'site/var.sh.hbs': 'printf \'[%s]\\n\' "$LVSPLAY_VAR_v"\n' });
    try {
      const o = run('shell', ctxFor('web1', { vars: { v }, templates: new Templates([fine]) }), { template: 'site/var.sh.hbs', check: 'false' }, '');
      t.is(runSh(o.script, { cwd: work }).stdout, `[${v}]\n`);
      t.false(existsSync(marker));
    } finally {
      cleanup(fine);
    }
  } finally {
    cleanup(work);
    cleanup(tpl);
  }
});

test('"$LVSPLAY_VAR_x" in double quotes, in an unquoted here-document, unquoted: always data, never code', (t) => {
  const work = tempDir();
  const tpl = overrides({
    'site/vars.sh.hbs': 'printf \'[%s]\\n\' "$LVSPLAY_VAR_v"\ncat <<EOF\n<$LVSPLAY_VAR_v>\nEOF\nprintf \'{%s}\' $LVSPLAY_VAR_v\n',
  });
  try {
    const marker = join(work, 'pwned');
    const templates = new Templates([tpl]);
    for (const v of [...HOSTILE(marker).filter((x) => x !== '*' && x !== '~root'), `a\ntouch ${marker}\nb`, 'EOF\ntouch x']) {
      const o = run('shell', ctxFor('web1', { vars: { v }, templates }), { template: 'site/vars.sh.hbs', check: 'false' }, '');
      const out = runSh(o.script, { cwd: work });
      t.is(out.code, 0, `${JSON.stringify(v)}: ${out.stderr}`);
      t.true(out.stdout.startsWith(`[${v}]\n<${v}>\n`), `${JSON.stringify(v)} → ${JSON.stringify(out.stdout)}`);
    }
    t.false(existsSync(marker));
  } finally {
    cleanup(work);
    cleanup(tpl);
  }
});

test('shell templates: every {{...}} is checked before rendering; the unsafe shapes are refused with their place', (t) => {
  const refused: [string, RegExp][] = [
    ['echo {{vars.site}}\n', /every \{\{\.\.\.\}\} must be \{\{q VALUE\}\}/],
    ['echo {{{vars.site}}}\n', /every \{\{\.\.\.\}\} must be/],
    ['echo "{{q vars.site}}"\n', /\{\{q \.\.\.\}\} inside "double quotes"/],
    ["echo '{{q vars.site}}'\n", /inside 'single quotes'/],
    ['echo `echo {{q vars.site}}`\n', /inside `backquotes`/],
    ['cat <<EOF\n{{q vars.site}}\nEOF\n', /inside a here-document/],
    ["cat <<'EOF'\n{{q vars.site}}\nEOF\n", /inside a here-document/],
    ['cat <<-EOF\n\t{{q vars.site}}\n\tEOF\n', /inside a here-document/],
    ['{{#if vars.site}}echo "{{/if}}{{q vars.site}}"\n', /block leaves a quote/],
    ['{{> other}}\n', /partials and decorators are not allowed/],
    // where the shell and a naive lexer part ways: a backslash-newline joins lines; a delimiter read partly or not at all
    ["echo a\\\n#' {{q vars.site}} '\n", /inside 'single quotes'/],
    ['cat <<$E\n{{q vars.site}}\n$E\n', /here-document's delimiter must be written out as one plain word/],
    ['cat <<E%\nE\n{{q vars.site}}\nE%\n', /here-document's delimiter must be written out as one plain word/],
    ['cat <<{{q vars.site}}\nx\n', /here-document's delimiter must be written out/],
    ['echo \\\\{{q vars.site}}\n', /right after a backslash/], // Handlebars' \\{{ is a backslash, then the mustache
    ['echo "$(printf x)" {{sh vars.site}}\n', null as unknown as RegExp],
    // where single quotes do not keep a value data: the shell expands a $(...) in it, or a backslash ends the quote
    ['echo $(( {{q vars.site}} + 1 ))\n', /inside \$\(\( \)\) or \(\( \)\) arithmetic/],
    ['(( n = {{q vars.site}} ))\n', /arithmetic/],
    ['echo $(( (1 + 2) * {{q vars.site}} ))\n', /arithmetic/],
    ['echo $(( 1 )) $(( {{sh vars.site}} ))\n', /\{\{sh \.\.\.\}\} inside \$\(\( \)\)/],
    ['echo ${{q vars.site}}\n', /ANSI-C quoting/],
    ['a[{{q vars.site}}]=1\n', /array subscript/],
    ['echo ${a[ {{q vars.site}} ]}\n', /in an array subscript or \$\[ \]/], // blanks before the value: still the subscript
    ['echo ${#a[1 + {{q vars.site}} ]}\n', /array subscript/],
    ['echo $[ {{q vars.site}} + 1 ]\n', /array subscript or \$\[ \]/],
    ['a=( [ {{q vars.site}} ]=1 )\n', /array subscript/],
    ["declare -a a=( [1]='x]' [ {{q vars.site}} ]=y )\n", /array subscript/], // a ] inside quotes closes nothing
    ['unset {{q vars.site}}\n', /as a name given to unset/],
    ['unset -v {{q vars.site}}\n', /as a name given to unset/],
    ['let n={{q vars.site}}\n', /arguments of let/],
    ['true; let "n = 1" {{q vars.site}}\n', /arguments of let/],
    ['cat <<EOF\nbody\n', /a here-document \(<<EOF\) is still open at the end of the template/],
    ['declare -i n={{q vars.site}}\n', /in an assignment declared -i/],
    ['f() { local -r -i n={{q vars.site}}; }\n', /declared -i/],
    ['declare -i n\nn={{q vars.site}}\n', /in an assignment declared -i \(to n, in this template\)/], // bash: n='a[$(cmd)]' runs cmd
    ['for v in 1; do total+={{q vars.site}}; done\nlocal -ri count=0 total\n', /in an assignment declared -i \(to total, in this template\)/], // declared on a later line (a function, a loop)
    ['declare -i n=0\nn=1+{{q vars.site}}\n', /in an assignment declared -i \(to n, in this template\)/], // the value under way, not only at its start
    ['{{#if vars.site}}typeset -i k=1{{/if}}\nexport k={{q vars.site}}\n', /in an assignment declared -i \(to k, in this template\)/],
    ['if [[ {{q vars.site}} -eq 1 ]]; then :; fi\n', /in a \[\[ \]\] that compares numbers/],
    ['[[ -n x && 1 -lt {{q vars.site}} ]] || :\n', /in a \[\[ \]\] that compares numbers/],
    // (Handlebars cannot read `}}}` after a mustache: a blank or another word before the `}`)
    ['echo "$v" ${v:{{q vars.site}} }\n', /in a \$\{name:offset:length\}/],
    ['echo ${v:1:{{q vars.site}}""}\n', /offset and length bash evaluates as arithmetic/],
    ['echo ${@:{{q vars.site}} }\n', /offset and length/],
    ['echo ${v: -{{q vars.site}} }\n', /offset and length/],
    ['echo ${a[1]:{{q vars.site}} }\n', /offset and length/],
    ['if [[ -v {{q vars.site}} ]]; then :; fi\n', /after -v/],
    ['[[ -n x && -v {{q vars.site}} ]] || :\n', /after -v/],
    ['if ! [ -v {{q vars.site}} ]; then :; fi\n', /after -v/],
    ['test -v {{q vars.site}} && printf -v {{q vars.site}} x\n', /after -v/],
    ['f() { local -n ref={{q vars.site}}; }\n', /declared -n/],
    ['read -r {{q vars.site}} < /etc/hostname\n', /as a name read assigns to/],
    ['while IFS= read -r -p x line {{q vars.site}}; do :; done\n', /as a name read assigns to/],
    ['f() { local {{q vars.site}}=1; }\n', /as a name given to local/],
    ['typeset -r {{q vars.site}}\n', /as a name given to typeset/],
    // bash's $'...': a backslash escapes a quote there (sh reads $ then '...', where it does not)
    ["echo $'a\\' {{q vars.site}} b'\n", /an escaped quote \(\\'\) inside \$'\.\.\.'/], // bash: the value's first quote ends $'...'
    ["echo $'\\'' {{q vars.site}}\n", /an escaped quote/], // dash: the value is inside '...', its first quote ends it
    ["echo $'tab\\there {{q vars.site}}'\n", /inside \$'\.\.\.' \(ANSI-C quotes\)/],
    // where the shell runs a word as code: a value there is a command, quoted or not
    ['eval echo {{q vars.site}}\n', /in eval's arguments/],
    ["if command eval 'a;b' {{q vars.site}}; then :; fi\n", /in eval's arguments/], // a ; inside quotes ends no command
    ['x=$(eval {{q vars.site}})\n', /in eval's arguments/],
    ['sh -c {{q vars.site}}\n', /as the command string of a shell's -c/],
    ['sudo -u {{q vars.site}} /bin/bash -o pipefail --norc -ec {{q vars.site}}\n', /command string of a shell's -c/],
    ['find / -name x -exec sh -c {{q vars.site}} \\;\n', /command string of a shell's -c/],
    ['bash -c -- {{q vars.site}}\n', /command string of a shell's -c/], // options after -c: the command string is the first operand
    ['dash -c -e -o noglob {{q vars.site}}\n', /command string of a shell's -c/],
    ['su - postgres -c {{q vars.site}}\n', /command string of a shell's -c/],
    ['runuser -u x --command={{q vars.site}}\n', /command string of a shell's -c/],
    ['flock -n /run/x.lock -c {{q vars.site}}\n', /command string of a shell's -c/],
    ['script -q -c {{q vars.site}} /dev/null\n', /command string of a shell's -c/],
    ['ssh {{q vars.site}} {{q vars.site}}\n', /in ssh's remote command/],
    ['ssh -- {{q vars.site}} uptime {{q vars.site}}\n', /in ssh's remote command/],
    ['ssh -o BatchMode=yes -p 2222 -nT root@{{q vars.site}} systemctl reload x {{q vars.site}}\n', /in ssh's remote command/],
    ['trap {{q vars.site}} EXIT\n', /as trap's action/],
    ["f() { builtin trap -- {{q vars.site}} INT; }\n", /as trap's action/],
    ["printf 'a\\n' | mapfile -t -C {{q vars.site}} -c 1 arr\n", /as mapfile's -C callback/],
    ['alias ll={{q vars.site}}\n', /in alias's arguments/],
    ['watch -n 2 -d {{q vars.site}}\n', /in the command of watch/], // watch joins its words for sh -c
    ['ssh -o {{q vars.site}} h true\n', /as an ssh option that can be ProxyCommand/], // -o 'ProxyCommand=cmd' runs cmd
    ['scp -oProxyCommand={{q vars.site}} a h:b\n', /as an ssh option/],
    ['ssh -o LocalCommand={{q vars.site}} h\n', /as an ssh option/],
    ['PS4={{q vars.site}}; set -x\n', /in an assignment to PS4/], // set -x expands PS4, $(...) included
    ['BASH_ENV={{q vars.site}} bash ./x.sh\n', /in an assignment to BASH_ENV/], // expanded before it is read as a file name
    ['export PROMPT_COMMAND={{q vars.site}}\n', /in an assignment to PROMPT_COMMAND/],
    // a value joined to the quoted text before it is part of that word: judged where the word starts
    ["sh -c 'echo '{{q vars.site}}\n", /as the command string of a shell's -c/], // -c's string becomes echo $(cmd)
    ["trap 'rm -f '{{q vars.site}}' x' EXIT\n", /as trap's action/],
    ["ssh root@h 'systemctl reload '{{q vars.site}}\n", /in ssh's remote command/],
    ["watch 'ipvsadm -L -t '{{q vars.site}}\n", /in the command of watch/],
    ["read -r 'a'{{q vars.site}} < /etc/hostname\n", /as a name read assigns to/], // a value [$(cmd)] makes the name a[$(cmd)]
    ["printf -v 'v'{{q vars.site}} %s x\n", /after -v/],
    // another interpreter's program text: code however it is quoted (awk's system(), sed's e command)
    ['awk {{q vars.site}} /etc/hosts\n', /as the program text of awk/],
    ['ipvsadm -Ln | /usr/bin/mawk -F : -v a=1 {{q vars.site}}\n', /as the program text of mawk/],
    ['gawk -v a=1 -e {{q vars.site}} f\n', /as the program text of gawk/],
    ['sed -n {{q vars.site}} /etc/hosts\n', /as the program text of sed/],
    ["sed -i -e 's/a/'{{q vars.site}}'/' /etc/x\n", /as the program text of sed/], // joined: the value is in -e's script
    ['sed -ne {{q vars.site}} f; perl -lne {{q vars.site}} f\n', /as the program text of sed/],
    ['perl -i.bak -pe {{q vars.site}} f\n', /as the program text of perl/],
    ['python3 -u -c {{q vars.site}}\n', /as the program text of python/],
    ['node --eval={{q vars.site}}\n', /as the program text of node/],
    // a shell (or at) reading its program from standard input: the value piped or given to it is code
    ['echo {{q vars.site}} | sh\n', /in a pipeline into a command that runs its standard input as shell code/],
    ["printf '%s\\n' {{q vars.site}} 2>&1 | tr a b | sudo -u root /bin/bash -s -- x\n", /in a pipeline into a command that runs its standard input/],
    ['{ echo x; } && echo {{q vars.site}} |\n  env A=1 dash -e 2>/dev/null\n', /in a pipeline into a command that runs its standard input/], // the pipeline goes on past a trailing |
    ["echo {{q vars.site}} 'a\nb' |& ssh -p 22 root@h\n", /in a pipeline into a command that runs its standard input/], // ssh with no command: the remote shell reads stdin
    ['echo {{q vars.site}} | at now + 1 minute\n', /in a pipeline into a command that runs its standard input/],
    ['{{#if vars.site}}echo {{q vars.site}}{{/if}} | ksh\n', /in a pipeline into a command that runs its standard input/],
    // out of a group, a loop or a $( ) into the pipeline it is part of, and into a group's stdin
    ['{\n  echo "set -e"\n  echo {{q vars.site}}\n} 2>&1 | sh\n', /in a pipeline into a command that runs its standard input/],
    ['for h in a; do ( printf %s $(echo {{q vars.site}}) ); done | bash\n', /in a pipeline into a command that runs its standard input/],
    ['case "$1" in a) echo x;; (b) echo {{q vars.site}} ;; esac | sh\n', /in a pipeline into a command that runs its standard input/],
    ['echo {{q vars.site}} | { read -r a; sh; }\n', /in a pipeline into a command that runs its standard input/],
    ['local -i n\necho {{q vars.site}} | while read -r n; do :; done\n', /in a pipeline into a command that reads it into n, declared -i/],
    ['declare -i n\nwhile IFS= read -r n; do :; done <<< {{q vars.site}}\n', /as a here-string to a group \(a loop, \{ \}, \( \), a function\) with a command that reads it into n/],
    ['{ read -r first; bash; } <<< {{q vars.site}}\n', /as a here-string to a group .* runs its standard input as shell code/],
    ['bash <<< {{q vars.site}}\n', /as a here-string to a command that runs its standard input as shell code/],
    // a variable holding a value ($LVSPLAY_VAR_name, or a name a {{q}} was assigned to) is the value where it is expanded
    ['sh -c "echo $LVSPLAY_VAR_site"\n', /^\$LVSPLAY_VAR_site as the command string of a shell's -c/], // expanded before sh parses its string
    ['eval "$LVSPLAY_VAR_site"\n', /^\$LVSPLAY_VAR_site in eval's arguments/],
    ['ssh root@h ipvsadm -d -t "${LVSPLAY_VAR_site}"\n', /^\$LVSPLAY_VAR_site in ssh's remote command/],
    ['trap "rm -f $LVSPLAY_VAR_site" EXIT\n', /^\$LVSPLAY_VAR_site as trap's action/],
    ['awk "$LVSPLAY_VAR_site" /etc/hosts\n', /^\$LVSPLAY_VAR_site as the program text of awk/],
    ['local dir={{q vars.site}}\nbash -ec "cd $dir"\n', /^\$dir as the command string of a shell's -c/],
    // a copy of such a variable, and a loop's name over a value, hold it too
    ['y=$LVSPLAY_VAR_site\nsh -c "echo $y"\n', /^\$y as the command string of a shell's -c/],
    ['local y="pre ${LVSPLAY_VAR_site}"; eval "$y"\n', /^\$y in eval's arguments/],
    ['d={{q vars.site}}\nexport e=${d%/}\necho "$e" | sh\n', /^\$e in a pipeline into a command that runs its standard input/], // a copy of a copy
    ['for h in a {{q vars.site}} b; do ssh root@h "$h"; done\n', /^\$h in ssh's remote command/],
    ['for h in "$LVSPLAY_VAR_site"; do\n  bash -c "$h"\ndone\n', /^\$h as the command string of a shell's -c/],
    ['select h in {{q vars.site}}; do eval "$h"; done\n', /^\$h in eval's arguments/],
    // a $( ) inside double quotes is plain shell again; backquotes and a here-document body's $( ) are code the check does not read
    ['x="$(sh -c "$LVSPLAY_VAR_site")"\n', /^\$LVSPLAY_VAR_site as the command string of a shell's -c/],
    ['echo "a $(echo "$LVSPLAY_VAR_site" | sh) b"\n', /^\$LVSPLAY_VAR_site in a pipeline into a command that runs its standard input/],
    ['echo "$(sh -c {{q vars.site}})"\n', /^\{\{q \.\.\.\}\} as the command string of a shell's -c/],
    ['echo "$(cd / && echo "$(eval "$LVSPLAY_VAR_site")")"\n', /^\$LVSPLAY_VAR_site in eval's arguments/], // nested
    ['x=`eval "$LVSPLAY_VAR_site"`\n', /^\$LVSPLAY_VAR_site inside `backquotes`, a command the shell runs/],
    ['echo "`eval \\"$LVSPLAY_VAR_site\\"`"\n', /^\$LVSPLAY_VAR_site inside `backquotes`/],
    ['cat <<EOF\n$(eval "$LVSPLAY_VAR_site")\nEOF\n', /^\$LVSPLAY_VAR_site inside a \$\( \) or `backquotes` in a here-document's body/],
    ['x="$(case "$1" in a) eval "$LVSPLAY_VAR_site";; esac)"\n', /a case command inside "\$\( \)"/], // a pattern's ) would end the $( ) for the check, not for the shell
    // a name read assigns from a value: given to it or to a loop around it, by here-string, pipe, here-document or < <( ), wherever the name is used
    ['while read -r y; do eval "$y"; done <<< {{q vars.site}}\n', /^\$y in eval's arguments/], // used before the here-string is written
    ['read -r y <<< "$LVSPLAY_VAR_site"\nsh -c "$y"\n', /^\$y as the command string of a shell's -c/],
    ["printf '%s\\n' {{q vars.site}} | while IFS= read -r h; do ssh root@h \"$h\"; done\n", /^\$h in ssh's remote command/],
    ['while read -r a b; do\n  echo "$b" | sh\ndone < <(echo {{q vars.site}})\n', /^\$b in a pipeline into a command that runs its standard input/],
    ['read -r y <<EOF\n$LVSPLAY_VAR_site\nEOF\neval "$y"\n', /^\$y in eval's arguments/],
    ['read -r a <<< "$LVSPLAY_VAR_site"\necho "$a" | while read -r b; do bash -c "$b"; done\n', /^\$b as the command string of a shell's -c/], // a read of a read
    ['read -r a0 <<< {{q vars.site}}\n' + [1, 2, 3, 4, 5, 6].map((i) => `echo "$a${i - 1}" | while read -r a${i}; do :; done\n`).join('') + 'eval "$a6"\n', /^\$a6 in eval's arguments/], // past a few reads of reads, every name a read assigns to holds a value
    // an assignment's or a loop list's $( ) with a value in it: the name holds it (from there on)
    ['y=$(echo {{q vars.site}})\neval "$y"\n', /^\$y in eval's arguments/],
    ['local y="$(printf %s "$LVSPLAY_VAR_site" | tr a b)"; sh -c "$y"\n', /^\$y as the command string of a shell's -c/],
    ['a=1 y=$(cat <<< {{q vars.site}}); echo "$y" | sh\n', /^\$y in a pipeline into a command that runs its standard input/],
    ['for h in $(printf "%s\\n" {{q vars.site}}); do ssh root@h "$h"; done\n', /^\$h in ssh's remote command/],
    ['y=$(cat <<EOF\n$LVSPLAY_VAR_site\nEOF\n)\neval "$y"\n', /^\$y in eval's arguments/],
    // an array's element, printf -v's name, mapfile's array, and the positional parameters once a value is a function's or set's argument
    ['arr=( a {{q vars.site}} ); eval "${arr[1]}"\n', /^\$arr in eval's arguments/],
    ['printf -v y %s {{q vars.site}}; eval "$y"\n', /^\$y in eval's arguments/],
    ['mapfile -t arr <<< {{q vars.site}}; eval "${arr[0]}"\n', /^\$arr in eval's arguments/],
    ['readarray -t < <(echo "$LVSPLAY_VAR_site"); sh -c "${MAPFILE[0]}"\n', /^\$MAPFILE as the command string of a shell's -c/],
    ['run() { sh -c "$1"; }\nrun {{q vars.site}}\n', /^\$1 as the command string of a shell's -c/],
    ['f() {\n  ssh root@h "$@"\n}\nf ls "$LVSPLAY_VAR_site"\n', /^\$@ in ssh's remote command/],
    ['set -- {{q vars.site}}\neval "$*"\n', /^\$\* in eval's arguments/],
    ['apply() { echo "$2" | bash; }; apply x {{q vars.site}}\n', /^\$2 in a pipeline into a command that runs its standard input/],
    ['env -S {{q vars.site}}\n', /^\{\{q \.\.\.\}\} as env -S's string, which env splits into a command and its arguments and runs/],
    ['/usr/bin/env -i --split-string="$LVSPLAY_VAR_site" x\n', /^\$LVSPLAY_VAR_site as env -S's string/],
    // a variable other programs run as a shell command
    ['GIT_SSH_COMMAND={{q vars.site}} git ls-remote ssh://h/r\n', /^\{\{q \.\.\.\}\} in an assignment to GIT_SSH_COMMAND, whose value programs run as a shell command/],
    ['export LESSOPEN="|$LVSPLAY_VAR_site %s"\n', /^\$LVSPLAY_VAR_site in an assignment to LESSOPEN/],
    ['A=1 EDITOR={{q vars.site}} crontab -e\n', /in an assignment to EDITOR/],
    // a program read from standard input as a file, or by an interpreter given none
    ['echo {{q vars.site}} | source /dev/stdin\n', /in a pipeline into a command that runs its standard input as a program/],
    ['echo {{q vars.site}} | bash /dev/fd/0 x\n', /in a pipeline into a command that runs its standard input as a program/],
    ['. /proc/self/fd/0 <<< {{q vars.site}}\n', /as a here-string to a command that runs its standard input as a program/],
    ['echo {{q vars.site}} | awk -f /dev/stdin /etc/hosts\n', /runs its standard input as a program/],
    ['echo {{q vars.site}} | perl\n', /runs its standard input as a program/],
    ['echo {{q vars.site}} | sudo -u x /usr/bin/python3.11 -u\n', /runs its standard input as a program/],
    ['echo {{q vars.site}} | python3 - arg\n', /runs its standard input as a program/],
    ['echo {{q vars.site}} | node\n', /runs its standard input as a program/],
    // a $( ) whose output is run as code: what is written in it, and what it reads of its stage's input
    ['echo {{q vars.site}} | sh -c "$(cat)"\n', /^\{\{q \.\.\.\}\} in a \$\( \) \(or its input\) whose output goes to a command that runs it as code/],
    ['sh -c "$(echo {{q vars.site}})"\n', /in a \$\( \) \(or its input\) whose output goes to a command that runs it as code/],
    ['eval $(printf %s "$LVSPLAY_VAR_site")\n', /^\$LVSPLAY_VAR_site in a \$\( \) \(or its input\) whose output goes to a command that runs it as code/],
    ['bash <<< "$(echo {{q vars.site}} | tr a b)"\n', /in a \$\( \) \(or its input\) whose output goes to a command that runs it as code/],
    ['echo {{q vars.site}} | eval "pre $(cat)"\n', /in a \$\( \) \(or its input\) whose output goes to a command that runs it as code/],
    // a quoted variable as a group's here-string is the group's input like a {{q}}
    ['{ read -r a; sh; } <<< "$LVSPLAY_VAR_site"\n', /^\$LVSPLAY_VAR_site as a here-string to a group .* runs its standard input as shell code/],
    ['while read -r a; do bash; done <<< pre"${LVSPLAY_VAR_site}"\n', /^\$LVSPLAY_VAR_site as a here-string to a group/],
    ['echo "$LVSPLAY_VAR_site" | sh\n', /^\$LVSPLAY_VAR_site in a pipeline into a command that runs its standard input as shell code/],
    ['declare -i n\nread -r n <<< "$LVSPLAY_VAR_site"\n', /^\$LVSPLAY_VAR_site as a here-string to a command that reads it into n/],
    ['sh <<EOF\necho $LVSPLAY_VAR_site\nEOF\n', /^\$LVSPLAY_VAR_site in a here-document whose text reaches a command that runs its standard input as shell code/],
    ['cat <<-EOF | sudo bash\n\tset -e\n\t${LVSPLAY_VAR_site:-x}\n\tEOF\n', /^\$LVSPLAY_VAR_site in a here-document whose text reaches a command that runs its standard input/],
    // a function the template defines is its body to what is piped into it, and to what reads its output
    ['run() { sh -s; }\necho {{q vars.site}} | run\n', /in a pipeline into a command that runs its standard input as shell code/],
    ['function apply {\n  bash\n}\nprintf %s {{q vars.site}} | A=1 apply\n', /in a pipeline into a command that runs its standard input/],
    ['emit() {\n  echo {{q vars.site}}\n}\nemit | sh\n', /in a pipeline into a command that runs its standard input/], // the value leaves in the function's output
    ['inner() ( sh ); outer() { cat; inner; }; echo {{q vars.site}} | outer\n', /in a pipeline into a command that runs its standard input/], // through another function
    ['main() { helper; }\nhelper() { g; sh; }\ng() { main; }\necho {{q vars.site}} | g\n', /in a pipeline into a command that runs its standard input/], // defined after its caller, in a cycle of calls
    ['declare -i n; get() { read -r n; }; get <<< {{q vars.site}}\n', /as a here-string to a group \(a loop, \{ \}, \( \), a function\) with a command that reads it into n/],
    ['f() { sh; }; f < <(echo {{q vars.site}})\n', /through a process substitution into a command that runs its standard input/],
    // a read in a function given a value: its name holds it (through functions it calls too)
    ['f() { read -r y; eval "$y"; }\nf <<< {{q vars.site}}\n', /^\$y in eval's arguments/],
    ['g() { while read -r l; do sh -c "$l"; done; }; f() { g; }\nprintf \'%s\\n\' "$LVSPLAY_VAR_site" | f\n', /^\$l as the command string of a shell's -c/],
    ['f() { mapfile -t a; eval "${a[0]}"; }; echo {{q vars.site}} | f\n', /^\$a in eval's arguments/],
    // behind a command that runs another (timeout, ip netns exec, chroot, flock...), or a shell started with no command (sudo -s, su, chroot DIR, unshare)
    ['echo {{q vars.site}} | timeout -k 1 5 sh\n', /in a pipeline into a command that runs its standard input as shell code/],
    ['echo {{q vars.site}} | ip -n lab netns exec lb1 bash -s\n', /in a pipeline into a command that runs its standard input/],
    ['echo {{q vars.site}} | flock -n /run/lvsplay.lock taskset -c 0 busybox sh\n', /in a pipeline into a command that runs its standard input/],
    ['echo {{q vars.site}} | runuser -u root -- nsenter -t 1 -m setpriv --reuid=0 dash\n', /in a pipeline into a command that runs its standard input/],
    ['echo {{q vars.site}} | sudo -i\n', /in a pipeline into a command that runs its standard input/],
    ['echo {{q vars.site}} | su - root\n', /in a pipeline into a command that runs its standard input/],
    ['echo {{q vars.site}} | chroot /srv/root\n', /in a pipeline into a command that runs its standard input/],
    ['echo {{q vars.site}} | unshare -m\n', /in a pipeline into a command that runs its standard input/],
    ['echo {{q vars.site}} | script -q /dev/null\n', /in a pipeline into a command that runs its standard input/],
    // ssh's remote command, and a container's, that runs its input (the remote shell joins ssh's words and runs them with it)
    ['echo {{q vars.site}} | ssh -p 22 root@h sudo bash -s\n', /in a pipeline into a command that runs its standard input as shell code/],
    ["printf '%s\\n' \"$LVSPLAY_VAR_site\" | ssh -o BatchMode=yes h sh\n", /^\$LVSPLAY_VAR_site in a pipeline into a command that runs its standard input as shell code/],
    ['echo {{q vars.site}} | docker exec -i -u root c bash -s\n', /in a pipeline into a command that runs its standard input as shell code/],
    ['echo {{q vars.site}} | kubectl exec -i p -c web -- sh\n', /in a pipeline into a command that runs its standard input as shell code/],
    ['timeout 5 bash <(echo {{q vars.site}})\n', /through a process substitution into a command that runs that file as a program/],
    ["printf '*/5 * * * * root %s\\n' {{q vars.site}} | sudo crontab -u root -\n", /in a pipeline into a command that installs it as a crontab/], // cron runs each line with sh
    // xargs and parallel turning their input into a shell's command string
    ['echo {{q vars.site}} | xargs sh -c\n', /in a pipeline into a command that turns its input into a shell's command string/],
    ['printf %s {{q vars.site}} | xargs -0 -r -n 1 sudo -u root /bin/bash -ec\n', /turns its input into a shell's command string/],
    ["echo {{q vars.site}} | xargs -I {} sh -c 'echo {}'\n", /turns its input into a shell's command string/], // the replace string can only be in the command string
    ['echo {{q vars.site}} | xargs -I{} bash -c {}\n', /turns its input into a shell's command string/],
    ["echo {{q vars.site}} | xargs --replace=@ env A=1 sh -c 'echo @'\n", /turns its input into a shell's command string/],
    ['echo {{q vars.site}} | parallel -j 4\n', /turns its input into a shell's command string/], // parallel with no command runs each line
    ['parallel "echo $LVSPLAY_VAR_site" ::: a b\n', /^\$LVSPLAY_VAR_site in the command of parallel \(before :::\)/], // parallel joins its command's words and hands them to a shell
    ['parallel -k echo {{q vars.site}} ::: a\n', /^\{\{q \.\.\.\}\} in the command of parallel/],
    ['git -c core.sshCommand={{q vars.site}} ls-remote ssh://h/r\n', /^\{\{q \.\.\.\}\} as a git -c setting, or the value of one git runs as a shell command/], // git ran core.sshCommand, and an alias with !, through sh
    ['git -C /srv -c "alias.up=$LVSPLAY_VAR_site" up\n', /^\$LVSPLAY_VAR_site as a git -c setting/],
    ['git -c {{q vars.site}} fetch\n', /^\{\{q \.\.\.\}\} as a git -c setting/], // a whole setting can be any of them
    ['tar -xf a.tar --to-command="$LVSPLAY_VAR_site"\n', /^\$LVSPLAY_VAR_site as a command tar runs through sh -c/], // each of the three ran its command here
    ['tar -cf - -I {{q vars.site}} /srv\n', /^\{\{q \.\.\.\}\} as a command tar runs through sh -c/],
    ['tar -cf - --checkpoint=1 --checkpoint-action=exec={{q vars.site}} /srv\n', /^\{\{q \.\.\.\}\} as a command tar runs through sh -c/],
    // a process substitution: its command's output is a file another command reads, and what it writes to >( ) is that command's input
    ["sh < <(printf '%s\\n' {{q vars.site}})\n", /through a process substitution into a command that runs its standard input as shell code/],
    ['sudo bash -e <(echo {{q vars.site}}) arg\n', /through a process substitution into a command that runs that file as a program/],
    ['source <({ echo x; echo {{q vars.site}}; }); . <(cat <<< {{q vars.site}})\n', /through a process substitution into a command that runs that file as a program/],
    ['bash --rcfile <(echo {{q vars.site}}) -i\n', /through a process substitution into a command that runs that file as a program/],
    ['awk -F : -f <(echo {{q vars.site}}) /etc/hosts\n', /through a process substitution into a command that runs that file as a program/],
    ['python3 <(echo {{q vars.site}}) x\n', /through a process substitution into a command that runs that file as a program/],
    ['at -m -f <(echo {{q vars.site}}) now\n', /through a process substitution into a command that runs that file as a program/],
    ['echo {{q vars.site}} > >(sh)\n', /through a process substitution into a command that runs its standard input as shell code/],
    ['echo {{q vars.site}} | tee -a log >(env A=1 bash -s) >/dev/null\n', /through a process substitution into a command that runs its standard input/],
    ['tee >(sh) <<< {{q vars.site}}\n', /through a process substitution into a command that runs its standard input/],
    ['cat <(echo {{q vars.site}}) | sh\n', /in a pipeline into a command that runs its standard input/],
    ['declare -i n\nread -r n < <(echo {{q vars.site}})\n', /through a process substitution into a command that reads it into n, declared -i/],
    ['typeset -i n\nwhile read -r n; do :; done < <(echo {{q vars.site}})\n', /through a process substitution into a command that reads it into n/], // a whole loop's input
    ['if true; then bash; fi < <(echo {{q vars.site}}) > out; cat <(sh < <(echo {{q vars.site}}))\n', /through a process substitution into a command that runs its standard input/],
    ['ipvsadm -S -n 2> >(sh) {{q vars.site}}\n', /through a process substitution into a command that runs its standard input/],
    // what read assigns to a name declared -i, and a ${n:=default} for one, bash evaluates as arithmetic
    ['declare -i n\nread -r -t 5 n <<< {{q vars.site}}\n', /as a here-string to a command that reads it into n, declared -i/],
    ['f() { local -i port; printf %s {{q vars.site}} | read -r -a port; }\n', /in a pipeline into a command that reads it into port, declared -i/],
    ['typeset -i w\n: ${w:={{q vars.site}} }\n', /in a \$\{w:=\.\.\.\} default, assigned to w, declared -i/],
    // the line is let go where a command ends, not at a | or & inside a subscript or a [[ ]], nor a ;; in a "$( )"
    ['echo ${a[1|{{q vars.site}}]}; a[2&{{q vars.site}}]=1\n', /^\{\{q \.\.\.\}\} in an array subscript/],
    ['[[ -n x || {{q vars.site}} -eq 1 ]]\n', /^\{\{q \.\.\.\}\} in a \[\[ \]\] that compares numbers/],
    ['echo "$(case a in a) echo ;; esac)"\n', /a case command inside "\$\( \)"/],
    ['a=1; b=2 | sudo sh -c {{q vars.site}} & wait\n', /^\{\{q \.\.\.\}\} as the command string of a shell's -c/],
    // a redirection's & ends no command, and a redirection anywhere is not a word of the command
    ['eval 2>&1 "$LVSPLAY_VAR_site"\n', /^\$LVSPLAY_VAR_site in eval's arguments/],
    ['eval &>>log {{q vars.site}}\n', /^\{\{q \.\.\.\}\} in eval's arguments/],
    ['sh -c 2>/dev/null {{q vars.site}}\n', /^\{\{q \.\.\.\}\} as the command string of a shell's -c/],
    // an expansion before the value in the same word list ends no command: its ( ) { } are its own
    ['eval ${cmd:-true} {{q vars.site}}\n', /^\{\{q \.\.\.\}\} in eval's arguments/],
    ['ssh ${host} "$LVSPLAY_VAR_site"\n', /^\$LVSPLAY_VAR_site in ssh's remote command/],
    ['ssh h $(hostname -f) {{q vars.site}}\n', /^\{\{q \.\.\.\}\} in ssh's remote command/],
    ['y=${a}$LVSPLAY_VAR_site; eval "$y"\n', /^\$y in eval's arguments/],
    ['echo {{q vars.site}} | ssh ${host} sh\n', /in a pipeline into a command that runs its standard input as shell code/], // a ${ } is no group to the flow
    ['time eval {{q vars.site}}\n', /^\{\{q \.\.\.\}\} in eval's arguments/], // time (and coproc) are reserved words before a command
    ['"$SHELL" -c {{q vars.site}}\n', /^\{\{q \.\.\.\}\} as the command string of a shell's -c/], // $SHELL and $BASH are shells, quoted, braced or not
    ['${BASH} -ec "$LVSPLAY_VAR_site"\n', /^\$LVSPLAY_VAR_site as the command string of a shell's -c/],
    ['echo {{q vars.site}} | sudo $SHELL -s\n', /in a pipeline into a command that runs its standard input as shell code/],
    ['env -i BASH_ENV="$LVSPLAY_VAR_site" bash ./x.sh\n', /^\$LVSPLAY_VAR_site in an assignment to BASH_ENV/], // bash expanded BASH_ENV from env's environment ($(...) ran)
    ['sudo GIT_SSH_COMMAND={{q vars.site}} git fetch\n', /^\{\{q \.\.\.\}\} in an assignment to GIT_SSH_COMMAND/],
    // a $( ) run as code over several lines: the whole of it reaches the code, not its last line's pipeline
    ['eval "$(cat <<EOF\n$LVSPLAY_VAR_site\nEOF\n)"\n', /^\$LVSPLAY_VAR_site in a here-document whose text reaches a command that runs/],
    ['eval $(\n  printf %s {{q vars.site}}\n)\n', /^\{\{q \.\.\.\}\} in a \$\( \) \(or its input\) whose output goes to a command that/],
    ['time -p trap "$LVSPLAY_VAR_site" EXIT\n', /^\$LVSPLAY_VAR_site as trap's action/],
    ['echo {{q vars.site}} | timeout ${t} sudo ${opts:+-n} sh\n', /in a pipeline into a command that runs its standard input as shell code/], // an expansion where a duration or options go
    // a variable holding a value where bash evaluates its text as arithmetic or as a variable name (a $(...) in a subscript in it runs), written bare as arithmetic allows too
    ['if [[ "$LVSPLAY_VAR_site" -gt 0 ]]; then :; fi\n', /^\$LVSPLAY_VAR_site in a \[\[ \]\] that compares numbers/],
    ['n={{q vars.site}}\n(( n > 0 )) && echo y\n', /^n \(a variable holding a value, written bare\) inside \$\(\( \)\) or \(\( \)\) arithmetic/],
    ['echo $(( $LVSPLAY_VAR_site + 1 ))\n', /^\$LVSPLAY_VAR_site inside \$\(\( \)\) or \(\( \)\) arithmetic/],
    ['echo "$(( LVSPLAY_VAR_site * 2 ))"\n', /^LVSPLAY_VAR_site \(a variable holding a value, written bare\) inside \$\(\( \)\)/],
    ['for ((i = 0; i < LVSPLAY_VAR_site; i++)); do :; done\n', /^LVSPLAY_VAR_site \(a variable holding a value, written bare\) inside \$\(\( \)\)/],
    ['a=(1 2); echo "${a[$LVSPLAY_VAR_site]}"\n', /^\$LVSPLAY_VAR_site in an array subscript/],
    ['y="$LVSPLAY_VAR_site"; a[$y]=1\n', /^\$y in an array subscript/],
    ['a=( [$LVSPLAY_VAR_site]=1 )\n', /^\$LVSPLAY_VAR_site in an array subscript/],
    ['echo $[ LVSPLAY_VAR_site ]\n', /^LVSPLAY_VAR_site \(a variable holding a value, written bare\) in an array subscript or \$\[ \]/],
    ['echo "${s:0:$LVSPLAY_VAR_site}"\n', /^\$LVSPLAY_VAR_site in a \$\{name:offset:length\}/],
    ['let "n = $LVSPLAY_VAR_site"\n', /^\$LVSPLAY_VAR_site in the arguments of let/],
    ['let m=LVSPLAY_VAR_site+1\n', /^LVSPLAY_VAR_site \(a variable holding a value, written bare\) in the arguments of let/],
    ['declare -i k\nk="$LVSPLAY_VAR_site"\n', /^\$LVSPLAY_VAR_site in an assignment declared -i \(to k/],
    ['[[ LVSPLAY_VAR_site -ge 1 ]]\n', /^LVSPLAY_VAR_site \(a variable holding a value, written bare\) in a \[\[ \]\] that compares numbers/],
    ['cat <<EOF\n${a[$LVSPLAY_VAR_site]}\nEOF\n', /^\$LVSPLAY_VAR_site in an array subscript/],
    ['cat <<EOF > f\n$(( LVSPLAY_VAR_site ))\nEOF\n', /^LVSPLAY_VAR_site \(a variable holding a value, written bare\) inside \$\(\( \)\)/],
    ['read -r "$LVSPLAY_VAR_site"\n', /^\$LVSPLAY_VAR_site as a name read assigns to/],
    ['unset "$LVSPLAY_VAR_site"\n', /^\$LVSPLAY_VAR_site as a name given to unset/],
    ['[[ -v $LVSPLAY_VAR_site ]]\n', /^\$LVSPLAY_VAR_site after -v/],
    ['printf -v "$LVSPLAY_VAR_site" %s x\n', /^\$LVSPLAY_VAR_site after -v/],
    ['declare -n r="$LVSPLAY_VAR_site"\n', /^\$LVSPLAY_VAR_site in an assignment declared -n/],
    ['echo "${!LVSPLAY_VAR_site}"\n', /^\$\{!LVSPLAY_VAR_site\}, whose value bash takes as the name of the variable to expand/],
    ['echo "${LVSPLAY_VAR_site@P}"\n', /^\$\{LVSPLAY_VAR_site@P\}, which expands the value as a prompt string does/], // ${v@P} ran a $(...) in v
    ['a=( {{q vars.site}} ); echo ${a[0]@P}\n', /^\$\{a\[0\]@P\}, which expands the value as a prompt string does/],
    ['f() { (( $1 > 0 )); }\nf {{q vars.site}}\n', /^\$1 inside \$\(\( \)\) or \(\( \)\) arithmetic/],
    ['declare -A h\nunset "h[$LVSPLAY_VAR_site]"\n', /^\$LVSPLAY_VAR_site as a name given to unset/], // an associative array's subscript is a string, but unset evaluates it again
    ['echo ${a["$LVSPLAY_VAR_site"]}\n', /^\$LVSPLAY_VAR_site in an array subscript/], // a subscript open before the quotes
    ['a["$LVSPLAY_VAR_site"]=1\n', /^\$LVSPLAY_VAR_site in an array subscript/],
    // quotes that go on past a line: the text before them still judges a value in them, or joined after them
    ['sh -c "\n  echo $LVSPLAY_VAR_site\n"\n', /^\$LVSPLAY_VAR_site as the command string of a shell's -c/],
    ['x="a\n$LVSPLAY_VAR_site"; eval "$x"\n', /^\$x in eval's arguments/],
    ["sh -c 'echo\n'{{q vars.site}}\n", /^\{\{q \.\.\.\}\} as the command string of a shell's -c/],
    ["eval $'a\n'\"$LVSPLAY_VAR_site\"\n", /^\$LVSPLAY_VAR_site in eval's arguments/],
    // a double quote inside a ${...} inside double quotes is a quote nested in it for bash (a {{q}} there is inside quotes and runs)
    ['echo "${v:-"{{q vars.site}}"}"\n', /^a double quote inside a \$\{\.\.\.\} that is inside double quotes/],
    ['echo "${a["$LVSPLAY_VAR_site"]}"\n', /^a double quote inside a \$\{\.\.\.\} that is inside double quotes/],
    // a name reference given the name of a variable holding a value expands to that value
    ['declare -n r=LVSPLAY_VAR_site; eval "$r"\n', /^\$r in eval's arguments/],
    ['f() { local -n ref; ref="LVSPLAY_VAR_site"; sh -c "$ref"; }\n', /^\$ref as the command string of a shell's -c/],
  ];
  for (const [text, why] of refused) {
    const tpl = overrides({ 'site/t.sh.hbs': text });
    try {
      const templates = new Templates([tpl]);
      if (why === null) {
        t.throws(() => templates.render('site/t.sh.hbs', { vars: { site: 'x' } }), { message: /sh: expected shell code generated by lvsplay/ }, text);
        continue;
      }
      const error = t.throws(() => templates.load('site/t.sh.hbs'), undefined, text);
      t.regex(error!.message, why, text);
      t.true((error as unknown as { line: number }).line >= 1, text);
    } finally {
      cleanup(tpl);
    }
  }
  const allowed = [
    "echo {{q vars.site}} # and {{q vars.site}} in a comment\n",
    "cat <<'EOF'\nliteral $(text)\nEOF\necho {{q vars.site}}\n",
    'if [ -n {{q vars.site}} ]; then echo "ok"; fi\n{{#each list}}echo {{q this}}\n{{/each}}',
    'x="a # b" ; echo {{q vars.site}}\n',
    'echo a \\\n  {{q vars.site}}\n',
    'cat <<"EOF";echo {{q vars.site}}\nliteral\nEOF\n',
    'echo $((1 + 2)) {{q vars.site}} $(( (3) )) {{q vars.site}}\n', // arithmetic ends where its parentheses close
    'echo $ {{q vars.site}}; outlet {{q vars.site}}; echo let {{q vars.site}}\n',
    '[[ {{q vars.site}} == x ]] && [ 1 -eq 1 ] && echo {{q vars.site}}\n', // a string comparison; [ -eq ] takes integers only
    'declare -r n={{q vars.site}}; case x in [[:space:]]*) echo {{q vars.site}} -eq 1 ;; esac\n',
    'grep -v {{q vars.site}} /etc/hosts; [ -n x ] && grep -q -v {{q vars.site}} /etc/hosts; printf %s -v {{q vars.site}}x\n', // grep's -v is an option; printf's after its format is an argument
    'read -r -p {{q vars.site}} -t 5 line <<< {{q vars.site}}; read -r line < {{q vars.site}}; local x={{q vars.site}}; declare -r y={{q vars.site}}; echo read {{q vars.site}}\n', // a prompt, a here-string, a file, values after =
    'tr a b <<< "$x"\necho {{q vars.site}}\ntr a b <<<$x; echo {{q vars.site}}\n', // a here-string opens no here-document (its body was taken to start on the next line)
    'sh -c \'printf "%s" "$1"\' sh {{q vars.site}}; bash -ec \'true\' && echo {{q vars.site}}; trap \'rm -f "$t"\' {{q vars.site}}\n', // $0, $1 and a trap's signal are data
    "IFS=$'\\n\\t'; printf $'%s\\n' {{q vars.site}}; echo \\$'x' {{q vars.site}} '$'{{q vars.site}}\n", // $'...' ends at its unescaped quote; an escaped $ or a quoted one opens none
    'declare -i n=1; m={{q vars.site}}; declare -r r=1; r2={{q vars.site}}; echo n={{q vars.site}}\n', // names not declared -i; n= as an argument, no assignment
    'unset -f {{q vars.site}}; a=( {{q vars.site}} ); echo ${a[1]} {{q vars.site}}; if [ {{q vars.site}} = x ]; then :; fi; [[ {{q vars.site}} == x ]]\n', // a function name, array values, a closed subscript, test operands
    'echo eval {{q vars.site}}; grep -c {{q vars.site}} /etc/hosts; bash ./x.sh {{q vars.site}}; mapfile -t a < {{q vars.site}}\n',
    'ssh -c aes128-ctr -o User={{q vars.site}} -p{{q vars.site}} -i {{q vars.site}} {{q vars.site}} true; flock {{q vars.site}} true; su {{q vars.site}} -c true\n', // ssh's options (not one that runs a command) and destination, flock's file, su's user: data
    'echo {{q vars.site}} | sh ./x.sh; echo {{q vars.site}} | grep -c sh || sh; echo {{q vars.site}} # | sh\necho {{q vars.site}} | ssh -N h; echo {{q vars.site}} | ssh h cat\n', // a script file, a word sh, a list or a comment after the pipeline, ssh with a command
    'echo {{q vars.site}}\ncase $a in\n  b) ipvsadm -S | sh ;;\n  (c) echo {{q vars.site}} && echo y | sh ;;\nesac | cat\nf() {\n  echo {{q vars.site}}\n}\ncat <<EOF | sh\na\nEOF\n{ echo {{q vars.site}}; } > f; echo {{q vars.site}} \\| sh; x=$(echo {{q vars.site}}); cat f | sh\n', // pipelines the value is not in (&& starts a new one; \\| is no pipe)
    "local x='a'{{q vars.site}}; ssh -p{{q vars.site}} root@{{q vars.site}} true; sh -c 'printf %s \"$1\"' 'sh'{{q vars.site}}; echo 'a'{{q vars.site}}'b' | cat\n", // an assignment's value, an option's attached argument, a destination, $0 and a plain argument joined to quoted text
    "awk -v vip={{q vars.site}} -F {{q vars.site}} '$1 == vip' {{q vars.site}}; awk -f p.awk {{q vars.site}}; sed -e 's/a/b/' {{q vars.site}}; sed -i.bak 's/a/b/' {{q vars.site}}; perl ./x.pl {{q vars.site}}; python3 -u x.py {{q vars.site}}; grep -e {{q vars.site}} f\n", // awk -v and -F, operands after the program, a program file, scripts' arguments
    'while read -r l; do :; done <<< {{q vars.site}}; if true; then cat; fi <<< {{q vars.site}}; echo } <<< {{q vars.site}}\n', // loops and groups whose commands read the value as data
    'echo \u00017\u0002 | sh\necho {{q vars.site}}\n', // the template's own bytes are never taken for the check's marks of values (it crashed on a value numbered 7)
    'declare -i n; read -r m <<< {{q vars.site}}; echo {{q vars.site}} | read -r -p n m; : ${m:={{q vars.site}} }\n', // read into, and a default for, a name not declared -i (n is -p's prompt)
    'bash -c \'read -r a\' <<< {{q vars.site}}; cat <<< {{q vars.site}}; watch -n {{q vars.site}} -x ipvsadm -L {{q vars.site}}; PS3={{q vars.site}}\n', // -c's program reads the here-string as data; watch -x runs no shell; PS3 is not expanded
    "diff <(echo {{q vars.site}}) f; cat < <(echo {{q vars.site}}); sh ./x.sh <(echo {{q vars.site}}); bash -s <(echo {{q vars.site}}) < ./x.sh; python3 x.py <(echo {{q vars.site}})\n", // a file given as data: diff's operand, cat's input, a script's argument
    "sh -c 'cat \"$1\"' sh <(echo {{q vars.site}}); while read -r l; do :; done < <(echo {{q vars.site}}); ipvsadm -R < <(echo {{q vars.site}}); echo {{q vars.site}} | tee >(grep -c x); echo $(<f) {{q vars.site}}\n", // $1 of -c, data read by read and ipvsadm, >( ) commands that read data
    "sh y <(echo {{q vars.site}}); . ./lib.sh <(echo {{q vars.site}}); perl -ne p <(echo {{q vars.site}}); while read -r a; do echo; done < <(echo {{q vars.site}}); ipvsadm -S -n 2> >(logger -t x) {{q vars.site}}\n", // arguments after a script or a program, a loop reading data, a >( ) reading data
    "echo {{q vars.site}} | xargs -I{} sh -c 'echo \"$1\"' sh {}; echo {{q vars.site}} | xargs sh -c 'echo \"$@\"' sh; echo {{q vars.site}} | xargs -a list sh -c; echo {{q vars.site}} | xargs -n1 ipvsadm -d -t; echo {{q vars.site}} | parallel echo; echo {{q vars.site}} | xargs\n", // the input as $1 or "$@", input from a file, another command, parallel's quoted arguments
    "show() { cat; }; echo {{q vars.site}} | show; run() { sh ./x.sh; }; echo {{q vars.site}} | run; f() { sh; }; f; echo {{q vars.site}}; g() { echo \"$1\"; }; g {{q vars.site}} | cat; function h { :; }; echo {{q vars.site}} | h\n", // functions that read data, run a script file, or are not fed the value
    "sh -c 'printf %s \"$LVSPLAY_VAR_site\"'; echo \"$LVSPLAY_VAR_site\" | grep -q x; ipvsadm -a -t \"$LVSPLAY_VAR_site\"; echo '$LVSPLAY_VAR_site' | sh; echo \\$LVSPLAY_VAR_site | sh; x=1; eval \"$x\"; echo \"${#LVSPLAY_VAR_site}\" | sh\ny=$LVSPLAY_VAR_site; printf '%s\\n' \"$y\" | grep x; n=${#LVSPLAY_VAR_site}; sh -c \"echo $n\"; echo z=$LVSPLAY_VAR_site; eval \"$z\"\nfor h in {{q vars.site}}; do sh -c 'echo \"$1\"' sh \"$h\"; done; for i in 1 2; do eval \"$i\"; done\nwhile read -r line; do eval \"$line\"; done < /etc/fixed; read -r y <<< {{q vars.site}}; printf '%s\\n' \"$y\"; sh -c 'echo \"$1\"' sh \"$y\"; { read -r a; sh; } <<< \"x\"; echo \"$LVSPLAY_VAR_site\"\necho \"$(printf %s {{q vars.site}} | tr a b)\"; echo \"$( (cd /; echo \"$LVSPLAY_VAR_site\") )\" | grep x; echo \"`date`\" \"$LVSPLAY_VAR_site\"; echo \"$((1 + 2))\"\ncat <<EOF\n$(date) $LVSPLAY_VAR_site `hostname`\nEOF\nx=\"$(cd /\n  printf %s \"$LVSPLAY_VAR_site\"\n)\"; echo \"$x\" | grep a\nd=$(date); eval \"$d\"; z=$(printf %s {{q vars.site}}); printf '%s\\n' \"$z\"; echo $(echo {{q vars.site}}); eval \"$w\"\nf() { printf '%s\\n' \"$1\"; }; f {{q vars.site}}; echo \"$#\"; sh -c \"echo $0\"; h <<< {{q vars.site}}; printf -v n %d 3; eval \"$n\"\necho {{q vars.site}} | perl -ne print; echo {{q vars.site}} | python3 x.py; echo {{q vars.site}} | cat -; echo {{q vars.site}} | python3 -c 'import sys; print(sys.stdin.read())'; echo {{q vars.site}} | awk '{print}' -; echo {{q vars.site}} | tee /dev/stdout; echo {{q vars.site}} | source ./lib.sh\nsh -c \"$(date)\"; echo \"$(cat <<< {{q vars.site}})\" | grep a; eval \"$(ipvsadm -S -n | wc -l)\"; echo {{q vars.site}} | w=\"$(cat)\"\nenv -S 'ipvsadm -L' {{q vars.site}}; env A={{q vars.site}} ipvsadm -L\nsh <<'EOF'\necho $LVSPLAY_VAR_site\nEOF\ncat <<EOF > f\n$LVSPLAY_VAR_site\nEOF\nsh <<EOF\necho \\$LVSPLAY_VAR_site $HOME\nEOF\n", // data places, single quotes, an escaped $, its length, a quoted here-document, one not run, an escaped $ in the body; a copy used as data, a length copied, `z=` echoed (no assignment), a loop passing its value as $1, a loop over fixed words; a read from a file, a read value used as data, a here-string of fixed text; a value as data in "$( )", a command substitution beside a variable; an assignment's $( ) with no value, or used as data; $1 used as data, $# and $0, a value as a here-string (not an argument), printf -v of fixed words; interpreters given a program or a script, stdin as data; a $( ) run as code with no value in it, one with a value used as data; env -S's command's arguments, env's assignments
    "echo {{q vars.site}} | timeout 5 cat; echo {{q vars.site}} | chroot /srv ipvsadm -R; echo {{q vars.site}} | ip netns exec lb1 ipvsadm -R; echo {{q vars.site}} | su -c 'ipvsadm -R' root; echo {{q vars.site}} | sudo -u root ipvsadm -R; echo {{q vars.site}} | flock /run/x ipvsadm -R; echo {{q vars.site}} | sudo -i ipvsadm -R\n", // commands that read their input as data behind the same wrappers
    'echo {{q vars.site}} | crontab -l; crontab ./cron.txt; echo {{q vars.site}} | grep crontab -\n', // listing, a file, a word crontab
    'parallel echo ::: {{q vars.site}} "$LVSPLAY_VAR_site"; parallel -j {{q vars.site}} --joblog {{q vars.site}} echo ::: a; parallel -q echo {{q vars.site}} ::: a\n', // parallel's arguments (it quotes them), its options' words, a command quoted by -q
    'git -c user.name={{q vars.site}} commit -m {{q vars.site}}; git -c http.proxy="$LVSPLAY_VAR_site" clone {{q vars.site}} /srv/r\n', // settings git does not run, a message, a URL
    'tar -xzf {{q vars.site}} -C "$LVSPLAY_VAR_site" --strip-components 1 -T {{q vars.site}}\n', // tar's archive, directory and lists are data
    'echo {{q vars.site}} | ssh h ipvsadm -R; echo {{q vars.site}} | ssh -s h sftp; echo {{q vars.site}} | ssh h sh ./x.sh; echo {{q vars.site}} | docker exec -i c cat; echo {{q vars.site}} | kubectl exec -i p -- ipvsadm -R\n', // remote and container commands that read data: a program, a subsystem, a script file
    'echo ${v:-{{q vars.site}} } ${v:={{q vars.site}} } ${v:+{{q vars.site}} } ${v:?{{q vars.site}} } ${v:1}{{q vars.site}}\n', // a default word is quote-removed; a closed ${} ends the offset
    'echo "rs[$LVSPLAY_VAR_site]" rs[1]; [ "$LVSPLAY_VAR_site" -ge 1 ] && test "$LVSPLAY_VAR_site" -lt 5; [[ $LVSPLAY_VAR_site == x ]]; echo $(( ${#LVSPLAY_VAR_site} + 1 )) ${!LVSPLAY_VAR_@} ${!a[@]} ${LVSPLAY_VAR_site:1} ${LVSPLAY_VAR_site:-0}\nn={{q vars.site}}; echo n "n is $n"; for ((i = 0; i < 3; i++)); do echo "$n" $((i + 1)); done; let m=1; echo "$((1 + 2)) $n"; echo [{{q vars.site}}]\n', // text in double quotes, [ ] and test (they read digits), a string [[ ]], a length, lists of names and keys, a substring of the value, the name written as a word, arithmetic without the value
    'declare -A h\necho "${h[$LVSPLAY_VAR_site]}" ${h[{{q vars.site}}]}; h[$LVSPLAY_VAR_site]=1; h=( [$LVSPLAY_VAR_site]=1 )\n', // an associative array's subscripts are strings, not arithmetic
    'cat <<EOF\n${s:1} $LVSPLAY_VAR_site rs[$LVSPLAY_VAR_site] $((1 + 2))\nEOF\ncat <<\'EOF\'\n$(( LVSPLAY_VAR_site )) ${a[$LVSPLAY_VAR_site]}\nEOF\n', // a here-document's text, and one not expanded
    "echo 'a\nb' {{q vars.site}}; printf '%s\\n' \"\n$LVSPLAY_VAR_site\" | grep x\n", // quotes over lines around data
    "echo \"${v:-$LVSPLAY_VAR_site}\" \"${c:-$(echo \"a\")}\" \"$(echo \"${b:-x}\")\" \"${y:-$(echo \"}\")}\"\n", // quotes in a $( ) in a ${...}, or around one
    'declare -n r=HOME; eval "$r"; x=LVSPLAY_VAR_site; eval "$x"\n', // a reference to a variable holding no value; the name as text
    'f() { read -r y; printf \'%s\\n\' "$y"; }; f <<< {{q vars.site}}; g() { read -r w; eval "$w"; }; g < /etc/fixed\n', // a read value used as data; a function fed a file
    'n={{q vars.site}}; eq={{q vars.site}}; if [[ -n "$a" && "$b" -eq 1 ]]; then :; fi\n', // a [[ ]]\'s operators are not the names n and eq
    'sh -c true 2> "$LVSPLAY_VAR_site"; echo > {{q vars.site}}; eval true & echo {{q vars.site}}\n', // a redirection's target; a command after a & that ends one
    'echo ${x} {{q vars.site}} | cat; x=$(f) && echo {{q vars.site}}; (echo {{q vars.site}}); { echo {{q vars.site}}; }; echo `date` $(( 1 + 2 )) {{q vars.site}}\n', // expansions before data; a subshell and a group
    'echo {{q vars.site}} | ssh ${host} cat; echo {{q vars.site}} | timeout ${t} ipvsadm -R; echo {{q vars.site}} | { cat; }\n', // the same commands reading data
    'env LANG={{q vars.site}} TZ="$LVSPLAY_VAR_site" ipvsadm -L; sudo HOME={{q vars.site}} true\n', // env and sudo given other variables
    '$SHELL ./x.sh {{q vars.site}}; echo {{q vars.site}} | $SHELL ./x.sh; "$SHELL" -c \'echo "$1"\' sh {{q vars.site}}\n', // $SHELL given a script file, or the value as $1
    'cat <<EOF > f\n$LVSPLAY_VAR_site\nEOF', // a here-document ended by the template's last line, with no newline after it (lvsplay puts one there)
    'echo "${LVSPLAY_VAR_site@Q}" ${LVSPLAY_VAR_site@E} ${HOME@P}\n', // quoting and escapes expand nothing; a prompt expansion of a variable holding no value
  ];
  for (const text of allowed) {
    const tpl = overrides({ 'site/t.sh.hbs': text });
    try {
      t.notThrows(() => new Templates([tpl]).load('site/t.sh.hbs'), text);
    } finally {
      cleanup(tpl);
    }
  }
});

test('shell templates: one whose last line is a here-document delimiter with no newline after it loads, and renders with that line ended', (t) => {
  const tpl = overrides({ 'site/end.sh.hbs': 'cat <<EOF > f\n$LVSPLAY_VAR_site\nEOF', 'site/open.sh.hbs': 'cat <<EOF > f\nx\nEOFX' });
  try {
    const templates = new Templates([tpl]);
    t.is(templates.render('site/end.sh.hbs', {}), 'cat <<EOF > f\n$LVSPLAY_VAR_site\nEOF\n');
    t.throws(() => templates.load('site/open.sh.hbs'), { message: /a here-document \(<<EOF\) is still open at the end of the template/ });
  } finally {
    cleanup(tpl);
  }
});

test('shell templates: a problem in the text after a block tag alone on its line is placed at its own line and column', (t) => {
  // Handlebars takes the blanks of a line holding only {{#if}} / {{else}} from the text after it; the place counts them
  const tpl = overrides({
    'site/quote.sh.hbs': "{{#if vars.a}}\n  echo $'a\\' b'\n{{/if}}\n",
    'site/else.sh.hbs': '{{#if vars.a}}\n  true\n{{else}}\n\n   eval "$LVSPLAY_VAR_site"\n{{/if}}\n',
  });
  try {
    const templates = new Templates([tpl]);
    t.regex(placeOf(t, () => templates.load('site/quote.sh.hbs')), /^2:12 an escaped quote/);
    t.regex(placeOf(t, () => templates.load('site/else.sh.hbs')), /^5:10 \$LVSPLAY_VAR_site in eval's arguments/);
  } finally {
    cleanup(tpl);
  }
});

test('shell templates: only the values that reach a reader are refused, each once, at its own place', (t) => {
  const places = (text: string) => checkShellTemplate(Handlebars.parse(text)).map((p) => `${p.line}:${p.column}`);
  // the value after the function in the pipeline does not reach it (it was reported, wrongly, when the function's use was looked up at the end)
  t.deepEqual(places('f() { sh; }\necho {{q a}} | f | echo {{q b}} | cat\n'), ['2:5']);
  t.deepEqual(places('echo {{q a}} | cat | sh | echo {{q b}} | tee >(cat) | sh\n'), ['1:5', '1:31']);
  t.deepEqual(places('{ echo {{q a}}; } | cat; echo {{q b}} | bash; cat <<EOF | sh\n$LVSPLAY_VAR_c\nEOF\n'), ['1:30', '2:0']);
});

test('shell templates: a chain of 40,000 functions is followed to its end without recursion', (t) => {
  // each function calls the one before it; the first runs its input as code
  const chain = ['f0() { sh; }', ...Array.from({ length: 40_000 }, (_, i) => `f${i + 1}() { f${i}; }`), 'echo {{q vars.site}} | f40000', ''].join('\n');
  const tpl = overrides({ 'site/t.sh.hbs': chain });
  try {
    const error = t.throws(() => new Templates([tpl]).load('site/t.sh.hbs'));
    t.regex(error!.message, /in a pipeline into a command that runs its standard input as shell code/);
  } finally {
    cleanup(tpl);
  }
});

test('every built-in shell template passes the shell-template rules', (t) => {
  const templates = new Templates();
  const names = readdirSync(BUILTIN_TEMPLATES).flatMap((d) => readdirSync(join(BUILTIN_TEMPLATES, d)).map((f) => `${d}/${f}`)).filter((n) => n.endsWith('.sh.hbs'));
  t.true(names.length >= 15, names.join(' '));
  for (const name of names) t.notThrows(() => templates.load(name), name);
});

test('any text a var may hold (no NUL, no CR) survives {{q}} and sh exactly (property)', (t) => {
  const work = tempDir();
  try {
    const hostile = fc.constantFrom("'", '"', '\\', '$', '`', '\n', ';', '&', '|', '(', ')', '{', '}', '*', '?', '[', ']', '~', '#', '!', ' ', '\t', '-', '%');
    const text = fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 5 }), hostile), { maxLength: 20 }).map((parts) => parts.join('')).filter((s) => !/[\0\r]/.test(s));
    fc.assert(
      fc.property(text, (v) => {
        const out = runSh(`printf '%s' ${shq(v)}\n`, { cwd: work });
        return out.code === 0 && out.stdout === v;
      }),
      { numRuns: 150 },
    );
    t.pass();
  } finally {
    cleanup(work);
  }
});

test('the file resource: hostile content (a var inserted as is with {{{x}}} into a config file) is written byte for byte', (t) => {
  const work = tempDir();
  const tpl = overrides({ 'site/raw.conf.hbs': 'value={{{vars.evil}}}\n' });
  try {
    const marker = join(work, 'pwned');
    const evil = `'; touch ${marker}; ' $(touch ${marker}) \`touch ${marker}\`\n@@lvsplay-task 0.0@@\n\\`;
    const path = join(work, 'etc', 'raw.conf');
    const o = run('file', ctxFor('web1', { vars: { evil }, templates: new Templates([tpl]) }), { path, template: 'site/raw.conf.hbs' }, '');
    t.is(syntaxError(o.script), '');
    const out = runSh(o.script, { cwd: work });
    t.is(out.code, 0, out.stderr);
    t.is(readFileSync(path, 'utf8'), `value=${evil}\n`);
    t.is((o.desired as FileDesired).content, `value=${evil}\n`);
    t.false(existsSync(marker));
  } finally {
    cleanup(work);
    cleanup(tpl);
  }
});

test('the shell resource: a check with quotes and substitutions is run as written, once, and only decides', (t) => {
  const work = tempDir();
  try {
    const check = `test "$(printf '%s' "it's")" = "it's" && printf '%s\\n' "ran \`echo twice\`" >> '${work}/log' && [ -f "${work}/flag" ]`;
    const o = run('shell', ctxFor('web1'), { template: 'site/hello.sh.hbs', check }, '');
    t.is(syntaxError(o.probe), '');
    const needed = runSh(o.probe, { cwd: work });
    t.is(needed.stdout, 'needed\n');
    writeFileSync(join(work, 'flag'), '');
    t.is(runSh(o.probe, { cwd: work }).stdout, 'done\n');
    t.is(readFileSync(join(work, 'log'), 'utf8'), 'ran twice\nran twice\n');
  } finally {
    cleanup(work);
  }
});

test('every built-in template renders scripts that parse, for values at the edge of what the schemas allow', (t) => {
  const ctx = ctxFor('lb1');
  const scripts = [
    run('package', ctx, { names: ['g++', 'libc6.1-dev', 'x-y.z+1'] }, '').script,
    run('package', ctx, { names: ['g++'], state: 'absent' }, 'g++ installed\n').script,
    run('service', ctx, { name: 'getty@tty1.service', enabled: true }, '').script,
    run('service', ctx, { name: 'a:b-c_d.e', state: 'stopped', enabled: false }, 'active active\nenabled enabled\n').script,
    run('file', ctx, { path: '/etc/a,b=c%d@e+f/-g.conf', template: 'site/motd.hbs', mode: '600', on_change: { reload: 'x@y.service' } }, '').script,
    run('sysctl', ctx, { extra: { 'net.ipv4.conf.eth0-1.rp_filter': '0', 'kernel.core_pattern': 'core.e:p -x' } }, '').script,
  ];
  const probes = [
    run('package', ctx, { names: ['g++'] }, '').probe,
    run('service', ctx, { name: 'getty@tty1.service' }, '').probe,
    run('file', ctx, { path: '/etc/a,b=c%d@e+f/-g.conf', template: 'site/motd.hbs' }, '').probe,
    run('shell', ctx, { template: 'site/hello.sh.hbs', check: "echo '; } fi done ) ( {" }, '').probe,
  ];
  for (const s of [...scripts, ...probes]) t.is(syntaxError(s), '', s);
  t.true(scripts[5]!.includes("printf '%s\\n' 'core.e:p -x' > /proc/sys/kernel/core_pattern"), scripts[5]);
});

// ---------------------------------------------------------------- Templates

test('Templates are strict: a missing value throws rather than rendering empty', (t) => {
  const tpl = overrides({ 'site/missing.hbs': 'x={{vars.nope}}\n', 'site/missing-q.sh.hbs': 'echo {{q vars.nope}}\n', 'site/deep.hbs': '{{host.nothing.here}}\n' });
  try {
    const templates = new Templates([tpl]);
    t.throws(() => templates.render('site/missing.hbs', { vars: {} }), { instanceOf: TemplateError, message: '"vars.nope" is not defined (no such value for this host: check the name, or set it in vars)' });
    t.throws(() => templates.render('site/missing-q.sh.hbs', { vars: {} }), { instanceOf: TemplateError, message: /"vars\.nope" is not defined/ });
    t.throws(() => templates.render('site/deep.hbs', { host: {} }), { instanceOf: TemplateError });
    const error = t.throws(() => run('file', ctxFor('web1', { templates }), { path: '/etc/x', template: 'site/missing.hbs' }, ''), { instanceOf: TemplateError });
    t.like(error, { file: join(tpl, 'site/missing.hbs'), line: 1, builtin: false });
    t.throws(() => templates.render('site/none.hbs', {}), { instanceOf: TemplateError, message: /template site\/none\.hbs is not in .* or the built-in templates/ });
  } finally {
    cleanup(tpl);
  }
});

test('Templates: a path that reads from a missing parent is reported at its line and column, naming the parent', (t) => {
  withTemplates({
    'site/deep.hbs': 'a\n  {{host.nothing.here}}\n',
    'site/deep-q.sh.hbs': 'echo {{q host.labels.zone}}\n',
    'site/deep-sub.sh.hbs': 'true\n{{#if (eq host.a.zone "b")}}echo {{q host.name}}\n{{/if}}\n',
    'site/two.hbs': '{{host.labels.zone}}\n{{#each host.list}}{{this}}{{/each}} {{vars.site.zone}}\n',
    'site/twice.hbs': '{{vars.here.there.here}}\n',
  }, (templates) => {
    const at = (name: string, data: object) => placeOf(t, () => templates.render(name, data));
    t.is(at('site/deep.hbs', { host: {} }), '2:5 "host.nothing.here": "host.nothing" does not exist for this host, so it has no "here" (check the names, or set it in vars)');
    t.is(at('site/deep-q.sh.hbs', { host: {} }), '1:10 "host.labels.zone": "host.labels" does not exist for this host, so it has no "zone" (check the names, or set it in vars)');
    t.is(at('site/deep-sub.sh.hbs', { host: { name: 'x' } }), '2:11 "host.a.zone": "host.a" does not exist for this host, so it has no "zone" (check the names, or set it in vars)');
    // Two paths read "zone": the one whose parent is missing for this host is named, not the first.
    t.is(at('site/two.hbs', { host: { labels: { zone: 'a' }, list: [] }, vars: {} }), '2:40 "vars.site.zone": "vars.site" does not exist for this host, so it has no "zone" (check the names, or set it in vars)');
    // The name read twice in one path: the read that failed is the one whose parent is missing
    t.is(at('site/twice.hbs', { vars: { here: { there: null } } }), '1:3 "vars.here.there.here": "vars.here.there" does not exist for this host, so it has no "here" (check the names, or set it in vars)');
  });
});

test('Templates: {{q}} refuses what is not a string, number or boolean, and NUL bytes', (t) => {
  const tpl = overrides({ 'q.hbs': '{{q value}}' });
  try {
    const templates = new Templates([tpl]);
    t.is(templates.render('q.hbs', { value: true }), 'true');
    t.throws(() => templates.render('q.hbs', { value: { a: 1 } }), { message: /got a mapping/ });
    t.throws(() => templates.render('q.hbs', { value: [1] }), { message: /got a list/ });
    t.throws(() => templates.render('q.hbs', { value: 'a\0b' }), { message: /NUL/ });
    t.is(templates.render('q.hbs', { value: 8443 }), '8443');
    t.is(templates.render('q.hbs', { value: '-rf' }), "'-rf'");
  } finally {
    cleanup(tpl);
  }
});

test('Templates: no HTML escaping (noEscape); in a config template {{x}} is one line, {{{x}}} as it is', (t) => {
  const tpl = overrides({ 'raw.hbs': '{{v}}', 'triple.hbs': '{{{v}}}', 'helper.hbs': '{{yn v}}' });
  try {
    const templates = new Templates([tpl]);
    t.is(templates.render('raw.hbs', { v: `<a href="x">&'` }), `<a href="x">&'`);
    const error = t.throws(() => templates.render('raw.hbs', { v: 'a\nb' }), { instanceOf: TemplateError });
    t.regex(error!.message, /in a config template \{\{x\}\} takes one line/);
    t.throws(() => templates.render('raw.hbs', { v: 'a\rb' }), { instanceOf: TemplateError });
    t.is(templates.render('triple.hbs', { v: 'a\nb' }), 'a\nb');
    t.is(templates.render('helper.hbs', { v: true }), 'yes', 'a helper\'s result goes through the one-line guard too');
  } finally {
    cleanup(tpl);
  }
});

test('Templates: a template reached through a symlink out of its folder is refused; one inside is fine; overrides are named', (t) => {
  const outside = tempDir('lvsplay-outside-');
  const tpl = overrides({ 'inside.hbs': 'in\n' });
  try {
    writeFileSync(join(outside, 'secret.hbs'), 'root:x:0:0\n');
    symlinkSync(join(outside, 'secret.hbs'), join(tpl, 'leak.hbs'));
    symlinkSync(join(tpl, 'inside.hbs'), join(tpl, 'alias.hbs'));
    const templates = new Templates([tpl]);
    const error = t.throws(() => templates.render('leak.hbs', {}), { instanceOf: TemplateError });
    t.regex(error!.message, /resolves outside its folder/);
    t.false(error!.message.includes('root:x'), 'nothing of the file is shown');
    t.is(templates.render('alias.hbs', {}), 'in\n');
    t.deepEqual([...templates.overrides], []);
    const override = overrides({ 'ipvs/probe.sh.hbs': 'echo "# lvsplay: ok"\n' });
    try {
      const o = new Templates([override]);
      o.render('ipvs/probe.sh.hbs', { args: [] });
      t.deepEqual([...o.overrides], [['ipvs/probe.sh.hbs', join(override, 'ipvs/probe.sh.hbs')]]);
    } finally {
      cleanup(override);
    }
  } finally {
    cleanup(outside);
    cleanup(tpl);
  }
});

test('Templates: a syntax error names the file and line, never quotes the source', (t) => {
  const tpl = overrides({ 'bad.hbs': 'line one\nsecret-text {{foo bar=}} more\nline three\n' });
  try {
    const error = t.throws(() => new Templates([tpl]).render('bad.hbs', {}), { instanceOf: TemplateError });
    t.like(error, { line: 2 });
    t.regex(error!.message, /^template syntax error: /);
    t.false(error!.message.includes('secret-text'));
  } finally {
    cleanup(tpl);
  }
});

test('Templates: a path nested 100,000 deep is a template error naming the file, not an internal error (Handlebars compiles it recursively, on the first render)', (t) => {
  const tpl = overrides({ 'path.hbs': `{{a${'.b'.repeat(100000)}}}\n` });
  try {
    const error = t.throws(() => new Templates([tpl]).render('path.hbs', { a: true }), { instanceOf: TemplateError });
    t.is(error!.file, join(tpl, 'path.hbs'));
    t.regex(error!.message, /nested too deeply for Handlebars/);
  } finally {
    cleanup(tpl);
  }
});

test('Templates: an override by the same relative path wins over the built-in; the first override folder wins; others fall back', (t) => {
  const a = overrides({ 'sysctl/apply.sh.hbs': '# site A\n{{#each values}}echo {{q this.value}}\n{{/each}}' });
  const b = overrides({ 'sysctl/apply.sh.hbs': '# site B\n', 'address/apply.sh.hbs': '# site B address\n' });
  try {
    const templates = new Templates([a, b]);
    t.is(templates.locate('sysctl/apply.sh.hbs').file, join(a, 'sysctl/apply.sh.hbs'));
    t.is(templates.locate('address/apply.sh.hbs').file, join(b, 'address/apply.sh.hbs'));
    t.is(templates.locate('file/write.sh.hbs').file, join(BUILTIN_TEMPLATES, 'file/write.sh.hbs'));
    const o = run('sysctl', ctxFor('lb1', { templates }), { persist: false }, '');
    // (then the record of what those keys were before, written by the built-in file/write.sh.hbs)
    t.true(o.script.startsWith('# site A\necho 1\necho 1\necho 1\necho 1\n\n# write /var/lib/lvsplay/sysctls'), o.script);
    t.is(run('address', ctxFor('lb1', { templates }), {}, '').script, '# site B address\n');
    t.true(run('sysctl', ctxFor('lb1', { templates: new Templates() }), { persist: false }, '').script.startsWith("# sysctl: runtime values, written to /proc/sys as sysctl -w does\nmodprobe -q ip_vs 2>/dev/null || : # its keys (net/ipv4/vs) exist only once it is loaded\nprintf '%s\\n' 1 > /proc/sys/net/ipv4/ip_forward\nprintf '%s\\n' 1 > /proc/sys/net/ipv4/vs/expire_nodest_conn\nprintf '%s\\n' 1 > /proc/sys/net/ipv4/vs/expire_quiescent_template\nprintf '%s\\n' 1 > /proc/sys/net/ipv6/conf/eth0/ndisc_notify\n"));
  } finally {
    cleanup(a);
    cleanup(b);
  }
});

test('Templates: the built-in folder is the repository\'s templates/', (t) => {
  t.true(existsSync(join(BUILTIN_TEMPLATES, 'file', 'write.sh.hbs')));
  t.true(existsSync(join(SUPPORT_TEMPLATES, 'site', 'motd.hbs')));
});

test('Templates: what Handlebars finds only as it renders (a missing helper) is a TemplateError naming the file; a built-in template a task names is the task\'s input, not a bug', (t) => {
  const tpl = overrides({ 'site/h.conf.hbs': 'a {{#nohelper 1}}x{{/nohelper}}\n', 'site/log.conf.hbs': 'a {{log vars.v}}\n' });
  try {
    const templates = new Templates([tpl]);
    // Handlebars' `log` would print the value on lvsplay's own stdout (into --json output): not a helper here
    for (const [name, says] of [['site/h.conf.hbs', /"nohelper" is not defined/], ['site/log.conf.hbs', /"log" is not defined/]] as const) {
      const error = t.throws(() => templates.render(name, { vars: { v: 'secret' } }), { instanceOf: TemplateError }, name);
      t.regex(error!.message, says);
      t.true(error!.file.endsWith(name) && !(error as TemplateError).builtin, name);
    }
  } finally {
    cleanup(tpl);
  }
  const chosen = t.throws(() => new Templates().renderChosen('keepalived/keepalived.conf.hbs', { vars: {} }), { instanceOf: TemplateError });
  t.false((chosen as TemplateError).builtin);
  t.regex(chosen!.message, /a built-in template, rendered here with a task's data/);
  t.true((t.throws(() => new Templates().render('keepalived/keepalived.conf.hbs', { vars: {} }), { instanceOf: TemplateError }) as TemplateError).builtin, 'lvsplay\'s own render of it stays a bug');
});

test('Templates: partials and decorators are refused when the template is loaded (validate), at their line, in config templates as in shell ones', (t) => {
  withTemplates({
    'site/p.conf.hbs': 'a\nb {{> nopartial}}\n',
    'site/d.conf.hbs': 'a {{* nodecorator}}\n',
    // an inline partial that calls itself twice: each level doubles the output, without end
    'site/self.conf.hbs': '{{#*inline "p"}}x{{> p}}{{> p}}{{/inline}}{{> p}}\n',
    'site/nested.conf.hbs': '{{#if vars.v}}\n  {{#> layout}}x{{/layout}}\n{{/if}}\n',
    'site/p.sh.hbs': 'echo a\n{{> other}}\n',
  }, (templates) => {
    for (const [name, line, column] of [['site/p.conf.hbs', 2, 3], ['site/d.conf.hbs', 1, 3], ['site/self.conf.hbs', 1, 1], ['site/nested.conf.hbs', 2, 3], ['site/p.sh.hbs', 2, 1]] as const) {
      t.regex(placeOf(t, () => templates.load(name), name), new RegExp(`^${line}:${column} partials and decorators are not allowed in templates`), name);
    }
  });
});

test('Templates: more than 10,000 {{...}} in one template is refused when it is loaded, at the first one past the cap (compiling them all took seconds and gigabytes)', (t) => {
  withTemplates({
    'site/many.conf.hbs': '{{{vars.x}}}\n'.repeat(10_001),
    'site/many.sh.hbs': 'true\n' + 'echo {{q vars.x}}\n'.repeat(10_001),
    // blocks and sub-expressions are compiled code too: 5,000 blocks holding 1 sub-expression each, and one more
    'site/blocks.conf.hbs': '{{#if (eq vars.x 1)}}x{{/if}}\n'.repeat(5_001),
    'site/enough.conf.hbs': '{{{vars.x}}}\n'.repeat(10_000),
  }, (templates) => {
    for (const [name, line, column] of [['site/many.conf.hbs', 10_001, 1], ['site/many.sh.hbs', 10_002, 6], ['site/blocks.conf.hbs', 5_001, 1]] as const) {
      t.is(placeOf(t, () => templates.load(name), name), `${line}:${column} more than 10,000 {{...}} in one template: a config file is not that big (repeat with {{#each}})`, name);
    }
    t.is(templates.render('site/enough.conf.hbs', { vars: { x: 'y' } }), 'y\n'.repeat(10_000));
  });
});

test('Templates: {{#each}} blocks that multiply past 64 Mi characters stop at the block that crossed, with its line, before the memory goes', (t) => {
  const tpl = overrides({
    'site/big.conf.hbs': '# header\n{{#each @root.vars.xs}}{{#each @root.vars.xs}}\n{{#each @root.vars.xs}}{{#each @root.vars.xs}}{{this}}{{/each}}{{/each}}{{/each}}{{/each}}\n',
    'site/sections.conf.hbs': '{{#@root.vars.xs}}{{#@root.vars.xs}}{{#@root.vars.xs}}{{#@root.vars.xs}}{{this}}{{/@root.vars.xs}}{{/@root.vars.xs}}{{/@root.vars.xs}}{{/@root.vars.xs}}\n',
    'site/fine.conf.hbs': '{{#each @root.vars.xs}}{{#each @root.vars.xs}}{{this}}\n{{/each}}{{/each}}',
  });
  try {
    const templates = new Templates([tpl]);
    const xs = Array.from({ length: 40 }, () => 'x'.repeat(1000)); // 40^4 x 1,000: 2.56 G characters
    for (const name of ['site/big.conf.hbs', 'site/sections.conf.hbs']) {
      const error = t.throws(() => templates.render(name, { vars: { xs } }), { instanceOf: TemplateError }, name);
      t.regex(error!.message, /takes the template's output past 64 Mi characters/, name);
      t.true(error!.line >= 1 && error!.line <= 3, `${name}: at an {{#each}} line, got ${error!.line}`);
    }
    t.is(templates.render('site/fine.conf.hbs', { vars: { xs } }).length, 40 * 40 * 1001, 'a render under the bound is whole');
  } finally {
    cleanup(tpl);
  }
});
