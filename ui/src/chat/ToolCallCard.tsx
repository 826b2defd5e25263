// One tool call: what kind, what, its status, where (each location opens in the editor), the
// diffs of an edit, and its output behind a disclosure (rendered only when opened).
import { useId } from "react";
import { DiffView } from "./DiffView";
import { useExpanded } from "./expansion";
import { toolKindLabel, toolStatusInfo } from "./format";
import { ToolKindIcon } from "./icons";
import { openLabel, usePathLinks, useResolvedPath } from "./paths/PathLinks";
import type { ToolCallInfo, ToolContent, ToolLocation } from "./reducer";

const RAW_LIMIT = 20_000;

function formatRaw(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = value;
  else {
    try {
      text = JSON.stringify(value, null, 2) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > RAW_LIMIT ? `${text.slice(0, RAW_LIMIT)}\n… (${text.length - RAW_LIMIT} more characters)` : text;
}

export function locationLabel(location: ToolLocation): string {
  return location.line === null ? location.path : `${location.path}:${location.line}`;
}

type OpenLocation = (path: string, line: number | null) => void;

/**
 * A location the agent reported. Inside a PathLinksProvider that can check paths, it opens only
 * once the workspace confirmed the file (at its workspace-relative path); otherwise it opens as
 * given and the core decides.
 */
function LocationButton({ location, onOpenLocation }: { location: ToolLocation; onOpenLocation: OpenLocation }) {
  const links = usePathLinks();
  const checked = links?.resolver != null;
  const resolved = useResolvedPath(location.path, checked);
  const label = locationLabel(location);
  if (checked && typeof resolved !== "string") {
    const missing = resolved === null;
    return (
      <span
        className={missing ? "chat-location chat-location--missing" : "chat-location chat-location--pending"}
        title={missing ? `${location.path} is not in the workspace` : undefined}
        data-testid="chat-location-text"
      >
        <code>{label}</code>
      </span>
    );
  }
  const path = typeof resolved === "string" ? resolved : location.path;
  return (
    <button
      type="button"
      className="chat-location"
      title={openLabel(path, location.line)}
      aria-label={`Open ${label}`}
      onClick={() => (links ? links.open(path, location.line, null) : onOpenLocation(location.path, location.line))}
    >
      <code>{label}</code>
    </button>
  );
}

export function ToolLocations({ locations, onOpenLocation }: { locations: ToolLocation[]; onOpenLocation: OpenLocation }) {
  if (locations.length === 0) return null;
  return (
    <ul className="chat-tool__locations" aria-label="Locations">
      {locations.map((location, index) => (
        <li key={`${location.path}:${location.line}:${index}`}>
          <LocationButton location={location} onOpenLocation={onOpenLocation} />
        </li>
      ))}
    </ul>
  );
}

function OutputPart({ content }: { content: ToolContent }) {
  switch (content.type) {
    case "text":
      return <pre className="chat-tool__text">{content.text}</pre>;
    case "terminal":
      return <p className="muted small">Terminal output ({content.terminalId || "unnamed terminal"}) is shown in the agent's terminal.</p>;
    case "block":
      return <BlockPlaceholder blockType={content.blockType} uri={content.uri} />;
    case "unknown":
      return <p className="muted small">Unsupported content ({content.label})</p>;
    case "diff":
      return null;
  }
}

export function BlockPlaceholder({ blockType, uri }: { blockType: string; uri: string | null }) {
  return (
    <p className="chat-block" data-testid="chat-block">
      <span className="chat-block__type">[{blockType.replace(/_/g, " ")}]</span>
      {uri ? <code className="chat-block__uri">{uri}</code> : null}
    </p>
  );
}

function ToolOutput({ call }: { call: ToolCallInfo }) {
  const parts = call.content.filter((content) => content.type !== "diff");
  return (
    <>
      {call.rawInput !== undefined ? (
        <div className="chat-tool__section">
          <p className="chat-tool__section-title">Input</p>
          <pre className="chat-tool__text">{formatRaw(call.rawInput)}</pre>
        </div>
      ) : null}
      {parts.length > 0 || call.rawOutput !== undefined ? (
        <div className="chat-tool__section">
          <p className="chat-tool__section-title">Output</p>
          {parts.map((content, index) => (
            <OutputPart key={index} content={content} />
          ))}
          {/* The raw output repeats the content when there is any; show it only when there is not. */}
          {parts.length === 0 && call.rawOutput !== undefined ? <pre className="chat-tool__text">{formatRaw(call.rawOutput)}</pre> : null}
        </div>
      ) : null}
    </>
  );
}

type ToolCallCardProps = {
  call: ToolCallInfo;
  /** Keeps the output's open/closed state (the transcript item key). */
  id: string;
  onOpenLocation: (path: string, line: number | null) => void;
};

export function ToolCallCard({ call, id, onOpenLocation }: ToolCallCardProps) {
  const [open, toggle] = useExpanded(`${id}:output`);
  const outputId = useId();
  const status = toolStatusInfo(call.status);
  const diffs = call.content.filter((content): content is Extract<ToolContent, { type: "diff" }> => content.type === "diff");
  const hasOutput = call.rawInput !== undefined || call.rawOutput !== undefined || call.content.some((content) => content.type !== "diff");
  const title = call.title || toolKindLabel(call.kind);
  return (
    <section className={`chat-tool chat-tool--${status.tone}`} aria-label={`${toolKindLabel(call.kind)}: ${title}`} data-testid="chat-tool" data-status={call.status}>
      <header className="chat-tool__header">
        <span className="chat-tool__kind">
          <ToolKindIcon kind={call.kind} />
          <span>{toolKindLabel(call.kind)}</span>
        </span>
        <span className="chat-tool__title">{title}</span>
        <span className={`status-tag status-tag--${status.tone === "busy" ? "neutral" : status.tone} chat-tool__status`} data-testid="chat-tool-status">
          {status.tone === "busy" ? <span className="dot dot--busy" aria-hidden="true" /> : null} {status.label}
        </span>
      </header>
      <ToolLocations locations={call.locations} onOpenLocation={onOpenLocation} />
      {diffs.map((diff, index) => (
        <DiffView key={`${diff.path}:${index}`} path={diff.path} oldText={diff.oldText} newText={diff.newText} />
      ))}
      {hasOutput ? (
        <>
          <button type="button" className="chat-disclosure" aria-expanded={open} aria-controls={open ? outputId : undefined} onClick={toggle}>
            {open ? "Hide details" : "Show details"}
          </button>
          {open ? (
            <div id={outputId} className="chat-tool__output" data-testid="chat-tool-output">
              <ToolOutput call={call} />
            </div>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
