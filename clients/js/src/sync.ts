// State sync on the client: a synced document (snapshot, then RFC 6902
// patches, each on the version it names), and watchers by path. The wire
// form is docs/protocol.md, "State sync".

/** One RFC 6902 operation. */
export interface PatchOperation {
  readonly op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  readonly path: string;
  readonly from?: string;
  readonly value?: unknown;
}

/**
 * Which document a sync frame is about: a room's shared and private views,
 * its presence, or a live lobby's rooms.
 */
export type DocName = "shared" | "private" | "presence" | "rooms";

const DOC_NAMES: ReadonlySet<unknown> = new Set(["shared", "private", "presence", "rooms"]);

/** A sync frame, as the server sends it. */
export type SyncFrame =
  | { readonly sync: DocName; readonly v: number; readonly state: unknown }
  | { readonly sync: DocName; readonly base: number; readonly patch: PatchOperation[] };

/** What a watcher is told about one path. */
export type PathHandler = (value: unknown, path: string, previous: unknown) => void;

/** What a whole-document watcher is told. */
export type DocHandler<T> = (state: T, previous: T | undefined) => void;

/** The frame a client sends to ask for fresh snapshots. */
export const RESYNC_REQUEST = '{"stateroom":{"resync":true}}';

/**
 * The object under `key` when a parsed frame is an object of one member
 * holding an object (`{"stateroom":{…}}`, `{"error":{…}}`), else undefined.
 */
export function soleMember(value: any, key: string): any {
  if (value === null || typeof value !== "object" || Object.keys(value).length !== 1) return undefined;
  const inner = value[key];
  return typeof inner === "object" && inner !== null ? inner : undefined;
}

/** Whether a parsed frame is a sync frame. */
export function isSyncFrame(value: any): value is { stateroom: SyncFrame } {
  const inner = soleMember(value, "stateroom");
  return (
    inner !== undefined &&
    DOC_NAMES.has(inner.sync) &&
    (typeof inner.v === "number" || (typeof inner.base === "number" && Array.isArray(inner.patch)))
  );
}

type Watcher = { pattern: string[] | null; handler: Function };

const hasOwn = (object: object, key: string) => Object.prototype.hasOwnProperty.call(object, key);

/** A JSON Pointer (RFC 6901) as its unescaped segments. */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new SyntaxError(`not a JSON Pointer: ${pointer}`);
  return pointer
    .slice(1)
    .split("/")
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function toPointer(segments: string[]): string {
  return segments.map((s) => "/" + s.replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

function child(node: unknown, key: string): unknown {
  if (Array.isArray(node)) return /^(0|[1-9][0-9]*)$/.test(key) ? node[Number(key)] : undefined;
  if (node !== null && typeof node === "object" && hasOwn(node, key)) return (node as any)[key];
  return undefined;
}

function at(node: unknown, path: string[]): unknown {
  for (const key of path) {
    node = child(node, key);
    if (node === undefined) return undefined;
  }
  return node;
}

function setOwn(object: any, key: string, value: unknown): void {
  // Never the prototype, whatever the key (`__proto__` included).
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

function arrayIndex(array: unknown[], key: string, forAdd: boolean): number {
  if (forAdd && key === "-") return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(key)) throw new RangeError(`not an array index: ${key}`);
  const index = Number(key);
  if (index > array.length || (!forAdd && index === array.length)) {
    throw new RangeError(`index ${index} is out of bounds`);
  }
  return index;
}

/**
 * Applies `ops` to `root` without changing it: every container on a changed
 * path is copied once, the rest is shared, so a framework that compares by
 * identity (React, Svelte, Solid) sees exactly what changed. Throws when an
 * operation does not apply.
 */
export function applyPatch(root: unknown, ops: readonly PatchOperation[]): unknown {
  const copies = new Set<object>();
  const copy = (node: unknown): any => {
    if (node === null || typeof node !== "object") throw new TypeError("not a container");
    if (copies.has(node)) return node;
    // Spread defines own properties (a `__proto__` key stays a key).
    const fresh = Array.isArray(node) ? node.slice() : { ...node };
    copies.add(fresh);
    return fresh;
  };
  const write = (path: string[], op: "add" | "remove" | "replace", value?: unknown) => {
    if (path.length === 0) {
      if (op === "remove") throw new TypeError("cannot remove the whole document");
      root = value;
      copies.clear();
      return;
    }
    root = copy(root);
    let parent: any = root;
    for (const key of path.slice(0, -1)) {
      const next = child(parent, key);
      const fresh = copy(next);
      if (Array.isArray(parent)) parent[arrayIndex(parent, key, false)] = fresh;
      else setOwn(parent, key, fresh);
      parent = fresh;
    }
    const last = path[path.length - 1];
    if (Array.isArray(parent)) {
      const index = arrayIndex(parent, last, op === "add");
      if (op === "add") parent.splice(index, 0, value);
      else if (op === "remove") parent.splice(index, 1);
      else parent[index] = value;
    } else {
      if (op !== "add" && !hasOwn(parent, last)) throw new RangeError(`no member ${last}`);
      if (op === "remove") delete parent[last];
      else setOwn(parent, last, value);
    }
  };
  for (const op of ops) {
    const path = parsePointer(op.path);
    switch (op.op) {
      case "add":
      case "replace":
        write(path, op.op, op.value);
        break;
      case "remove":
        write(path, "remove");
        break;
      case "move":
      case "copy": {
        const from = parsePointer(op.from ?? "");
        const value = at(root, from);
        if (value === undefined) throw new RangeError(`nothing at ${op.from}`);
        if (op.op === "move") write(from, "remove");
        write(path, "add", op.op === "copy" ? structuredClone(value) : value);
        break;
      }
      case "test":
        if (JSON.stringify(at(root, path)) !== JSON.stringify(op.value)) {
          throw new RangeError(`test failed at ${op.path}`);
        }
        break;
      default:
        throw new TypeError(`unknown operation ${(op as any).op}`);
    }
  }
  return root;
}

/** The concrete paths under `node` (at `prefix`) that match the rest of a pattern. */
function expand(rest: string[], node: unknown, prefix: string[], out: Map<string, string[]>): void {
  if (rest.length === 0) {
    out.set(toPointer(prefix), prefix);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const [head, ...tail] = rest;
  const keys = head === "*" ? Object.keys(node) : hasOwn(node, head) ? [head] : [];
  for (const key of keys) expand(tail, child(node, key), [...prefix, key], out);
}

/** Whether `path` and `pattern` agree on their common length. */
function agrees(path: string[], pattern: string[]): boolean {
  const n = Math.min(path.length, pattern.length);
  for (let i = 0; i < n; i++) if (pattern[i] !== "*" && pattern[i] !== path[i]) return false;
  return true;
}

/** One synced document and its watchers. */
export class SyncedDoc<T> {
  /** The document, once a snapshot arrived. */
  value: T | undefined = undefined;
  /** Its version (0 before any snapshot). */
  version = 0;
  /** A patch did not fit: waiting for a snapshot, patches ignored. */
  stale = false;
  #watchers = new Set<Watcher>();

  /** Watches the whole document, or the paths matching `pattern` (`*` for any key). */
  watch(pattern: string | null, handler: Function): () => void {
    const watcher: Watcher = { pattern: pattern === null ? null : parsePointer(pattern), handler };
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  /**
   * Applies a frame. Returns false when a patch does not fit the version held
   * (or does not apply): the caller asks for a snapshot, and until one comes
   * patches are ignored, so the document is never one the server did not have.
   */
  apply(frame: SyncFrame, report: (error: unknown) => void): boolean {
    const before = this.value;
    let ops: readonly PatchOperation[] | null = null;
    if ("v" in frame) {
      this.value = frame.state as T;
      this.version = frame.v;
      this.stale = false;
    } else {
      if (this.stale) return true;
      if (this.value === undefined || frame.base !== this.version) {
        this.stale = true;
        return false;
      }
      try {
        this.value = applyPatch(this.value, frame.patch) as T;
      } catch (error) {
        report(error);
        this.stale = true;
        return false;
      }
      this.version += 1;
      ops = frame.patch;
    }
    this.#notify(before, ops);
    return true;
  }

  #notify(before: T | undefined, ops: readonly PatchOperation[] | null): void {
    const after = this.value;
    for (const { pattern, handler } of this.#watchers) {
      if (pattern === null) {
        call(handler, after, before);
        continue;
      }
      const paths = new Map<string, string[]>();
      const touched = ops === null ? [[]] : ops.flatMap((op) => [op.path, ...(op.from === undefined ? [] : [op.from])].map(parsePointer));
      for (const path of touched) {
        if (!agrees(path, pattern)) continue;
        if (path.length >= pattern.length) {
          const concrete = path.slice(0, pattern.length);
          paths.set(toPointer(concrete), concrete);
        } else {
          const rest = pattern.slice(path.length);
          expand(rest, at(before, path), path, paths);
          expand(rest, at(after, path), path, paths);
        }
      }
      for (const [pointer, path] of paths) {
        const value = at(after, path);
        const previous = at(before, path);
        if (ops === null && JSON.stringify(value) === JSON.stringify(previous)) continue;
        call(handler, value, pointer, previous);
      }
    }
  }
}

function call(handler: Function, ...args: unknown[]): void {
  try {
    handler(...args);
  } catch (error) {
    // A throwing handler must not break the document or other handlers.
    queueMicrotask(() => {
      throw error;
    });
  }
}
