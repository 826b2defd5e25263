// Finds file paths (and the line they point at) in agent text. Precision matters more than
// recall: a mention is only a candidate, and the workspace confirms it before it becomes a link,
// but every candidate costs a lookup, and URLs, versions, dates and prose must never look like
// files. Offsets are JavaScript string indices (UTF-16 code units).

export type PathMention = {
  /** Where the mention starts in the text. */
  start: number;
  /** Where it ends (exclusive), including a location suffix or a trailing "(line 10)". */
  end: number;
  /** The path as written, without its location. */
  path: string;
  line: number | null;
  column: number | null;
  /** The last line of a range (`#L10-L20`, `:10-20`, `lines 10-20`). */
  endLine: number | null;
};

/** Characters that end a word: whitespace, quotes, brackets and list punctuation. */
const WORD = /[^\s`"'<>|()[\]{},;=]+/gu;

/** Segment characters: letters and digits of any script, and the usual file-name punctuation. */
const SEGMENT = String.raw`[\p{L}\p{N}\p{M}_.+~@-]+`;
const PREFIX = String.raw`(?:[A-Za-z]:[\\/]|~[\\/]|[\\/])`;
const PATH = String.raw`${PREFIX}?(?:${SEGMENT}[\\/])*${SEGMENT}`;
/**
 * The location forms glued to a path: `:10`, `:10:5`, `:10-20`, `#L10`, `#L10C5`, `#L10-L20`,
 * or a Markdown anchor (`#install`, no line).
 */
const LOCATION = String.raw`:(\d+)(?:[-–](\d+)|:(\d+))?|#L(\d+)(?:C(\d+))?(?:[-–]L?(\d+)(?:C\d+)?)?|#[\p{L}\p{N}_-]+`;
const MENTION = new RegExp(String.raw`^(${PATH})(?:${LOCATION})?$`, "u");

/** A line given in words after the path: `path (line 10)`, `path, line 10`, `path line 10`. */
const LINE_PHRASES = [
  /^[`"']?\s*\(\s*(?:at\s+|on\s+)?lines?\s+(\d+)(?:\s*[-–]\s*(\d+))?\s*\)/i,
  /^[`"']?,\s*(?:at\s+|on\s+)?lines?\s+(\d+)(?:\s*[-–]\s*(\d+))?/i,
  /^[`"']?\s+(?:at\s+|on\s+)?lines?\s+(\d+)(?:\s*[-–]\s*(\d+))?/i,
];

/**
 * Extensions a bare file name (one without a directory) must have to count. Words such as
 * `console.log`, `process.env` or `e.g` must not, so `log`, `env` and one-letter guesses are
 * left out unless they are common source files (`c`, `h`, `r`).
 */
const BARE_EXTENSIONS = new Set(
  (
    "rs toml md mdx markdown txt rst adoc ts tsx mts cts js jsx mjs cjs json jsonc json5 yml yaml py pyi ipynb go mod sum " +
    "java kt kts scala groovy gradle c h cc cpp cxx hpp hh cs fs swift m mm rb php pl lua r jl dart ex exs erl hrl hs ml mli " +
    "clj cljs edn el vim zig nim sh bash zsh fish ps1 bat cmd css scss sass less html htm vue svelte astro xml xsd svg " +
    "png jpg jpeg gif webp ico pdf csv tsv sql db sqlite proto graphql gql wgsl glsl hlsl wasm lock ini cfg conf " +
    "properties example sample template tmpl tpl j2 tf tfvars hcl nix dockerfile patch diff plist sln csproj xcodeproj"
  ).split(" "),
);

/** Extensionless files that are plainly files. */
const BARE_NAMES = new Set(
  (
    "Dockerfile Containerfile Makefile GNUmakefile makefile Justfile justfile Rakefile Gemfile Procfile Vagrantfile " +
    "Brewfile Pipfile Jenkinsfile Tiltfile LICENSE LICENCE COPYING README CHANGELOG CONTRIBUTING AUTHORS NOTICE " +
    "CODEOWNERS OWNERS BUILD WORKSPACE"
  ).split(" "),
);

/** Dotfiles (with or without a further extension: `.env.example`, `.eslintrc.json`). */
const DOTFILES = new Set(
  (
    "env envrc gitignore gitattributes gitmodules gitkeep editorconfig dockerignore npmrc nvmrc yarnrc prettierrc " +
    "prettierignore eslintrc eslintignore babelrc stylelintrc browserslistrc bashrc zshrc profile tool-versions " +
    "node-version python-version ruby-version terraformrc mailmap clang-format clang-tidy rustfmt"
  ).split(" "),
);

/** Names of libraries written like files ("Node.js"): prose, not paths. */
const PROSE_NAMES = new Set(
  "node.js vue.js next.js nuxt.js react.js three.js d3.js express.js nest.js chart.js p5.js ember.js angular.js backbone.js alpine.js solid.js moment.js day.js bun.js deno.js socket.io".split(
    " ",
  ),
);

/** A first directory that is a host name (`github.com/…`): a URL without its scheme. */
const HOST_LIKE = /^(?:[a-z0-9-]+\.)+(?:com|org|net|io|dev|ai|co|gov|edu|info|uk|de|fr|eu)$/i;

/** An extension: starts with a letter (so `1.5x`, `v2.0.1`, `127.0.0.1` have none). */
const EXTENSION = /^(.+)\.([A-Za-z][A-Za-z0-9_+-]{0,15})$/;

function isDotfile(name: string, withDirectory: boolean): boolean {
  if (!name.startsWith(".") || name.length < 2 || name === "..") return false;
  if (withDirectory) return true;
  const first = name.slice(1).split(".")[0]!;
  return DOTFILES.has(first.toLowerCase());
}

/** Whether `path` (no location) has the shape of a file path worth asking the workspace about. */
export function isPlausiblePath(path: string): boolean {
  const absolute = /^(?:[A-Za-z]:|~)?[\\/]/.test(path);
  const segments = path.split(/[\\/]/).filter((segment, index) => !(index === 0 && segment === ""));
  if (segments.length === 0 || segments.some((segment) => segment === "")) return false;
  const last = segments[segments.length - 1]!;
  const first = segments[0]!;
  // npm scopes, e-mail addresses, git@host:…, package@version.
  if (first.includes("@")) return false;
  const withDirectory = segments.length > 1 || absolute;
  if (withDirectory) {
    if (/^www\./i.test(first)) return false;
    if (!absolute && !first.startsWith(".") && HOST_LIKE.test(first)) return false;
    if (BARE_NAMES.has(last) || isDotfile(last, true)) return true;
    return EXTENSION.test(last);
  }
  if (PROSE_NAMES.has(last.toLowerCase())) return false;
  if (BARE_NAMES.has(last) || isDotfile(last, false)) return true;
  const extension = EXTENSION.exec(last);
  if (!extension) return false;
  const [, stem, suffix] = extension;
  // A stem of digits is a number with a unit or a version (`3.5GHz`, `1.0.rc`).
  if (/^[\d.]+$/.test(stem!)) return false;
  return BARE_EXTENSIONS.has(suffix!.toLowerCase());
}

const number = (value: string | undefined): number | null => (value === undefined ? null : Number.parseInt(value, 10));

/** Strips what wraps a word in prose (`**bold**`, `~~gone~~`) and what ends a sentence. */
function trimWord(word: string): [number, number] {
  let start = 0;
  let end = word.length;
  for (;;) {
    if (word[start] === "*") start += 1;
    else if (word.startsWith("~~", start)) start += 2;
    else break;
  }
  for (;;) {
    const last = word[end - 1];
    if (end > start && last !== undefined && ".,:;!?*…".includes(last)) end -= 1;
    else if (end - start >= 2 && word.endsWith("~~", end)) end -= 2;
    else break;
  }
  return [start, end];
}

/** A line named in words right after a path (see LINE_PHRASES), and how long that phrase is. */
export function trailingLine(text: string): { line: number; endLine: number | null; length: number } | null {
  for (const phrase of LINE_PHRASES) {
    const match = phrase.exec(text);
    if (match) return { line: number(match[1])!, endLine: number(match[2]), length: match[0].length };
  }
  return null;
}

/** Parses one word (already trimmed) as a path with an optional location. */
function parseWord(word: string): Omit<PathMention, "start" | "end"> | null {
  const match = MENTION.exec(word);
  if (!match) return null;
  const path = match[1]!;
  if (!isPlausiblePath(path)) return null;
  const line = number(match[2] ?? match[5]);
  const column = number(match[4] ?? match[6]);
  const endLine = number(match[3] ?? match[7]);
  // `:0` is not a line.
  if (line === 0) return null;
  return { path, line, column, endLine };
}

/** Every plausible path mention in `text`, in order. */
export function detectPaths(text: string): PathMention[] {
  const mentions: PathMention[] = [];
  for (const match of text.matchAll(WORD)) {
    const word = match[0];
    const [from, to] = trimWord(word);
    if (to - from < 2) continue;
    const parsed = parseWord(word.slice(from, to));
    if (!parsed) continue;
    const start = match.index + from;
    let end = match.index + to;
    if (parsed.line === null && end === match.index + word.length) {
      const phrase = trailingLine(text.slice(end));
      if (phrase) {
        parsed.line = phrase.line;
        parsed.endLine = phrase.endLine;
        end += phrase.length;
      }
    }
    mentions.push({ start, end, ...parsed });
  }
  return mentions;
}

/**
 * A Markdown link target that names a workspace file (`src/a.rs#L42`), or null for anything
 * with a scheme (http:, javascript:, file:…) or that is not a plausible path.
 */
export function parsePathTarget(target: string): Omit<PathMention, "start" | "end"> | null {
  let decoded = target.trim();
  try {
    decoded = decodeURI(decoded);
  } catch {
    return null;
  }
  if (/[\u0000-\u001f\u007f\s]/u.test(decoded)) return null;
  // A scheme (two letters or more, so `C:\…` stays a path).
  if (/^[a-z][a-z0-9+.-]+:/i.test(decoded)) return null;
  return parseWord(decoded);
}
