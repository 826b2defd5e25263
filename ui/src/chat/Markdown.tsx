// Agent text as Markdown, through an allowlist. react-markdown builds React elements (never
// innerHTML); raw HTML in the text stays text; links go through `onOpenLink` rather than
// navigating the webview; remote images are not loaded. Inside a PathLinksProvider, file paths
// in the text (and link targets that are workspace paths) open in the user's editor once the
// workspace confirmed they exist.
import { lowlight } from "../shared/highlight";
import { createContext, memo, useCallback, useContext, useMemo, useRef, type ReactElement, type ReactNode } from "react";
import ReactMarkdown, { type Components, type ExtraProps } from "react-markdown";
import remarkGfm from "remark-gfm";
import { detectPaths, parsePathTarget, trailingLine } from "./paths/detect";
import { PathLink, usePathLinks } from "./paths/PathLinks";
import { COPY_LABEL, useCopy } from "./useCopy";


/** Past this, code is shown plain: highlighting it would stall the transcript. */
const HIGHLIGHT_LIMIT = 100_000;

/** The only elements Markdown may produce; anything else is unwrapped to its text. */
const ALLOWED_ELEMENTS = [
  "p", "br", "hr", "strong", "em", "del", "code", "pre", "span", "blockquote",
  "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "input",
  "table", "thead", "tbody", "tr", "th", "td", "a", "img", "sup", "sub", "section",
];

const SAFE_PROTOCOL = /^(https?|mailto):/i;

/** Keeps http(s) and mailto URLs; anything else (javascript:, data:, file:, relative…) becomes "". */
export function safeUrl(url: string): string {
  const trimmed = url.trim();
  // Control characters and whitespace inside a scheme are how filters get fooled ("java\tscript:").
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return "";
  return SAFE_PROTOCOL.test(trimmed) ? trimmed : "";
}

type HastNode = { type: string; tagName?: string; value?: string; properties?: Record<string, unknown>; children?: HastNode[] };

function textOf(node: HastNode | undefined): string {
  if (!node) return "";
  if (node.type === "text") return node.value ?? "";
  return (node.children ?? []).map(textOf).join("");
}

function languageOf(code: HastNode | undefined): string | null {
  const classes = code?.properties?.className;
  if (!Array.isArray(classes)) return null;
  for (const value of classes) {
    if (typeof value === "string" && value.startsWith("language-")) return value.slice("language-".length);
  }
  return null;
}

function codeChild(pre: HastNode | undefined): HastNode | undefined {
  return pre?.children?.find((child) => child.type === "element" && child.tagName === "code");
}

/** Highlights fenced code whose language is registered; the result is plain hast spans. */
function rehypeLowlight() {
  return (tree: HastNode) => {
    const visit = (node: HastNode) => {
      if (node.type === "element" && node.tagName === "pre") {
        const code = codeChild(node);
        const language = languageOf(code);
        if (code && language && lowlight.registered(language)) {
          const text = textOf(code);
          if (text.length <= HIGHLIGHT_LIMIT) {
            code.children = lowlight.highlight(language, text).children as HastNode[];
            const className = Array.isArray(code.properties?.className) ? code.properties.className : [];
            code.properties = { ...code.properties, className: ["hljs", ...className] };
          }
        }
        return;
      }
      node.children?.forEach(visit);
    };
    visit(tree);
  };
}

/** A path mention found in the text, on the span (or link) that shows it. Numbers, as hast keeps them. */
type MentionProperties = { dataPathMention?: string; dataPathTarget?: string; dataLine?: number; dataColumn?: number; dataEndLine?: number };

type Mention = { path: string; line: number | null; column: number | null; endLine: number | null };

function locationProperties(mention: Omit<Mention, "path">): MentionProperties {
  const properties: MentionProperties = {};
  if (mention.line !== null) properties.dataLine = mention.line;
  if (mention.column !== null) properties.dataColumn = mention.column;
  if (mention.endLine !== null) properties.dataEndLine = mention.endLine;
  return properties;
}

function mentionOf(node: HastNode | undefined, key: "dataPathMention" | "dataPathTarget"): Mention | null {
  const properties = (node?.properties ?? {}) as MentionProperties;
  const path = properties[key];
  if (typeof path !== "string") return null;
  const number = (value: unknown) => (typeof value === "number" ? value : null);
  return { path, line: number(properties.dataLine), column: number(properties.dataColumn), endLine: number(properties.dataEndLine) };
}

/** Text with each path mention in a span of its own (which renders as a link once confirmed). */
function splitMentions(value: string): HastNode[] {
  const mentions = detectPaths(value);
  if (mentions.length === 0) return [{ type: "text", value }];
  const nodes: HastNode[] = [];
  let at = 0;
  for (const { start, end, path, ...location } of mentions) {
    if (start > at) nodes.push({ type: "text", value: value.slice(at, start) });
    nodes.push({
      type: "element",
      tagName: "span",
      properties: { dataPathMention: path, ...locationProperties(location) },
      children: [{ type: "text", value: value.slice(start, end) }],
    });
    at = end;
  }
  if (at < value.length) nodes.push({ type: "text", value: value.slice(at) });
  return nodes;
}

/**
 * Marks path mentions: in text and inline code (not in code blocks, not inside links), and link
 * targets that are workspace paths. Runs before react-markdown's own URL and element filtering,
 * which still applies: a marked link keeps its emptied href, and a mention is an allowed span.
 */
function rehypePathMentions() {
  return (tree: HastNode) => {
    const visit = (node: HastNode) => {
      const children = node.children;
      if (!children) return;
      const next: HastNode[] = [];
      children.forEach((child, index) => {
        if (child.type === "text") {
          next.push(...splitMentions(child.value ?? ""));
          return;
        }
        if (child.type === "element" && child.tagName === "a") {
          const href = child.properties?.href;
          const target = typeof href === "string" ? parsePathTarget(href) : null;
          if (target) child.properties = { ...child.properties, dataPathTarget: target.path, ...locationProperties(target) };
        } else if (child.type === "element" && child.tagName !== "pre") {
          visit(child);
          // `src/a.rs` (line 10): the line is in the text after the code.
          const only = child.tagName === "code" && child.children?.length === 1 ? child.children[0] : undefined;
          const after = children[index + 1];
          if (only?.properties?.dataPathMention !== undefined && only.properties.dataLine === undefined && after?.type === "text") {
            const phrase = trailingLine(after.value ?? "");
            if (phrase) only.properties = { ...only.properties, ...locationProperties({ line: phrase.line, column: null, endLine: phrase.endLine }) };
          }
        }
        next.push(child);
      });
      node.children = next;
    };
    visit(tree);
  };
}

/** False while the message streams in: its paths may be half-written, so nothing is looked up yet. */
const LookupActive = createContext(true);

function MentionLink({ mention, children }: { mention: Mention; children?: ReactNode }) {
  const active = useContext(LookupActive);
  return (
    <PathLink path={mention.path} line={mention.line} column={mention.column} endLine={mention.endLine} active={active}>
      {children}
    </PathLink>
  );
}

function TargetLink({ mention, children }: { mention: Mention; children?: ReactNode }) {
  const active = useContext(LookupActive);
  return (
    <PathLink
      path={mention.path}
      line={mention.line}
      column={mention.column}
      endLine={mention.endLine}
      active={active}
      className="md-link"
      fallback={<span className="md-link md-link--blocked">{children}</span>}
    >
      {children}
    </PathLink>
  );
}

function CopyButton({ text, label = "Copy code" }: { text: string; label?: string }) {
  const [state, copy] = useCopy();
  return (
    <button type="button" className="chat-mini-button" aria-label={state === "idle" ? label : COPY_LABEL[state]} onClick={() => copy(text)}>
      <span aria-hidden="true">{COPY_LABEL[state]}</span>
    </button>
  );
}

function CodeBlock({ node, children }: { node?: ExtraProps["node"]; children?: ReactNode }) {
  const code = codeChild(node as HastNode | undefined);
  const language = languageOf(code);
  return (
    <div className="md-code">
      <div className="md-code__bar">
        <span className="md-code__language">{language ?? "text"}</span>
        <CopyButton text={textOf(code).replace(/\n$/, "")} />
      </div>
      <pre className="md-code__pre">{children}</pre>
    </div>
  );
}

/** Where a link goes when it is activated: the Markdown on screen's `onOpenLink`. The rendered
 * elements read it from here, so they hold nothing of the instance that made them. */
const OpenLinkContext = createContext<(url: string) => void>(() => {});

function ExternalLink({ url, children }: { url: string; children?: ReactNode }) {
  const openLink = useContext(OpenLinkContext);
  return (
    <a
      href={url}
      className="md-link"
      title={url}
      rel="noreferrer noopener"
      onClick={(event) => {
        event.preventDefault();
        openLink(url);
      }}
      onAuxClick={(event) => event.preventDefault()}
    >
      {children}
    </a>
  );
}

/** The same for every message (module-level: cached renderings stay valid anywhere). */
const COMPONENTS: Components = {
  a: ({ node, href, children }) => {
    const target = mentionOf(node as HastNode | undefined, "dataPathTarget");
    if (target) return <TargetLink mention={target}>{children}</TargetLink>;
    const url = href ? safeUrl(href) : "";
    if (!url) return <span className="md-link md-link--blocked">{children}</span>;
    return <ExternalLink url={url}>{children}</ExternalLink>;
  },
  img: ({ src, alt }) => {
    const url = typeof src === "string" ? safeUrl(src) : "";
    return (
      <span className="md-image" data-testid="md-image">
        <span aria-hidden="true">🖼 </span>
        {alt ? <span className="md-image__alt">{alt}</span> : <span className="md-image__alt">Image</span>}
        {url ? <span className="md-image__url"> ({url})</span> : null}
      </span>
    );
  },
  span: ({ node, children, ...rest }) => {
    const mention = mentionOf(node as HastNode | undefined, "dataPathMention");
    return mention ? <MentionLink mention={mention}>{children}</MentionLink> : <span {...rest}>{children}</span>;
  },
  pre: ({ node, children }) => <CodeBlock node={node}>{children}</CodeBlock>,
  input: ({ type, checked }) =>
    type === "checkbox" ? <input type="checkbox" checked={Boolean(checked)} disabled readOnly aria-label={checked ? "Done" : "Not done"} /> : null,
  table: ({ children }) => (
    <div className="md-table">
      <table>{children}</table>
    </div>
  ),
};

const REMARK_PLUGINS = [remarkGfm];
/** The rehype plugins for [linkPaths][highlight], each list made once. */
const REHYPE_PLUGINS = [
  [[], [rehypeLowlight]],
  [[rehypePathMentions], [rehypePathMentions, rehypeLowlight]],
];

/** How many finished messages keep their rendering: parsing is most of what a message costs to
 * show (micromark, tens of milliseconds for a long one in WebKit), and reopening a chat or
 * scrolling back shows the same messages again. */
const RENDERED_LIMIT = 300;
/** Longer texts are not kept: one would hold a large tree for little gain. */
const RENDERED_MAX_CHARS = 200_000;
const rendered = new Map<string, ReactElement>();

/**
 * The message as React elements: react-markdown's `Markdown` is a plain function of its options
 * (no hooks), so its result is kept per text for finished messages (least recently used out
 * first). A message that is still streaming changes with every chunk and is never kept.
 */
function renderMarkdown(text: string, highlight: boolean, linkPaths: boolean): ReactElement {
  const key = `${linkPaths ? 1 : 0}${highlight ? 1 : 0}${text}`;
  const cached = rendered.get(key);
  if (cached) {
    rendered.delete(key);
    rendered.set(key, cached);
    return cached;
  }
  const element = ReactMarkdown({
    children: text,
    remarkPlugins: REMARK_PLUGINS,
    rehypePlugins: REHYPE_PLUGINS[linkPaths ? 1 : 0]![highlight ? 1 : 0],
    allowedElements: ALLOWED_ELEMENTS,
    unwrapDisallowed: true,
    urlTransform: safeUrl,
    components: COMPONENTS,
  });
  if (highlight && text.length <= RENDERED_MAX_CHARS) {
    rendered.set(key, element);
    if (rendered.size > RENDERED_LIMIT) rendered.delete(rendered.keys().next().value!);
  }
  return element;
}

type MarkdownProps = {
  text: string;
  /** Called with an http(s) or mailto URL when a link is activated. */
  onOpenLink?: (url: string) => void;
  /** Off while a message streams in: code is highlighted, and paths are looked up, once it is complete. */
  highlight?: boolean;
};

export const Markdown = memo(function Markdown({ text, onOpenLink, highlight = true }: MarkdownProps) {
  // One stable function; the latest callback is read at click time.
  const openRef = useRef(onOpenLink);
  openRef.current = onOpenLink;
  const openLink = useCallback((url: string) => openRef.current?.(url), []);

  const linkPaths = usePathLinks() !== null;
  const body = useMemo(() => renderMarkdown(text, highlight, linkPaths), [text, highlight, linkPaths]);

  return (
    <div className="md">
      <OpenLinkContext.Provider value={openLink}>
        <LookupActive.Provider value={highlight}>{body}</LookupActive.Provider>
      </OpenLinkContext.Provider>
    </div>
  );
});
