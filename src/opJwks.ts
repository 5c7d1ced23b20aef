import { DEFAULT_JWKS_COOLDOWN_SECONDS } from './bearer/options.js';

/** A JWKS answer, read once and handed to every request that shared it. */
interface Downloaded {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

/**
 * Rate-limits a client's JWKS downloads as bearer validation does (jose's `cooldownDuration`,
 * {@link DEFAULT_JWKS_COOLDOWN_SECONDS}): oauth4webapi refetches the JWKS whenever an ID token names
 * a `kid` it has not seen, so without this every forged or unknown `kid` cost one request to the OP.
 *
 * At most one download starts per cooldown window. A request inside the window waits for its end
 * (it is not refused: a key the OP has just rotated to must still sign the user in, OIDC Core
 * §10.1.1), and requests meanwhile share that one download. The first download is immediate.
 */
export class JwksDownloads {
  readonly #cooldownMs: number;
  #startedAt = Number.NEGATIVE_INFINITY;
  #pending: Promise<Downloaded> | undefined;

  constructor(cooldownMs = DEFAULT_JWKS_COOLDOWN_SECONDS * 1000) {
    this.#cooldownMs = cooldownMs;
  }

  /**
   * The JWKS answer: `download` (a request on its own, with its own timeout) runs when the window
   * allows, shared by every caller until it completes; `signal` stops this caller's wait only.
   */
  async fetch(download: () => Promise<Response>, signal?: AbortSignal | null): Promise<Response> {
    this.#pending ??= this.#download(download).finally(() => {
      this.#pending = undefined;
    });
    const answer = await (signal ? untilAborted(this.#pending, signal) : this.#pending);
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  }

  async #download(download: () => Promise<Response>): Promise<Downloaded> {
    const wait = this.#startedAt + this.#cooldownMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // Counted from the start, failures included: an OP whose JWKS fails is not asked more often.
    this.#startedAt = Date.now();
    const response = await download();
    return { status: response.status, headers: [...response.headers], body: await response.text() };
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}
