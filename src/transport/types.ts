/**
 * What the runner sees of a host: run a shell script, get its output and exit status back. The
 * SSH and local transports implement it; everything above them is transport-agnostic.
 */
export interface ExecResult {
  /** The script's exit status; a signal-killed script gives 128 + the signal number (as sh reports it). */
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Overrides the host's command timeout for this one script. */
  timeoutMs?: number;
  /** On timeout, only close the channel (the kill script itself must not recurse). */
  noKill?: boolean;
  /** Receives stdout as it arrives (the runner tells the apply from the verify in one script). */
  onStdout?: (text: string) => void;
}

export interface Transport {
  /** Inventory host name, for messages. */
  readonly host: string;
  /** Runs `script` with /bin/sh on the host; the script travels on stdin, never in argv. */
  exec(script: string, options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
  /** How many exec() calls were made: the runner's tests count round trips. */
  readonly execCount: number;
}

/**
 * The host could not be worked with at all, as opposed to a script that ran and failed (that is a
 * non-zero ExecResult.code). The kind lets the runner tell "unreachable" from "refused".
 */
/** `become`: connected and logged in, but sudo refused: the host failed, it is not unreachable. */
export type TransportErrorKind = 'unreachable' | 'auth' | 'hostkey' | 'timeout' | 'become';

export class TransportError extends Error {
  readonly kind: TransportErrorKind;
  readonly host: string;

  constructor(kind: TransportErrorKind, host: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
    this.kind = kind;
    this.host = host;
  }
}
