// The agent asks before acting: what it wants to do, and its options as buttons. Answered here,
// from the terminal or from a notification; the resolution shows who answered.
import { useEffect, useId, useState } from "react";
import { Button } from "../shared/ui";
import { DiffView } from "./DiffView";
import { resolutionLabel, toolKindLabel } from "./format";
import type { PermissionItem } from "./reducer";
import { ToolLocations } from "./ToolCallCard";
import type { PermissionOption } from "./types";

type PermissionPromptProps = {
  item: PermissionItem;
  onAnswer: (request: number, optionId: string) => Promise<void>;
  onOpenLocation: (path: string, line: number | null) => void;
};

function variantOf(option: PermissionOption): { variant: "primary" | "secondary"; className?: string } {
  switch (option.kind) {
    case "allow_once":
      return { variant: "primary" };
    case "allow_always":
      return { variant: "secondary", className: "chat-permission__allow" };
    case "reject_once":
    case "reject_always":
      return { variant: "secondary", className: "button--danger-text chat-permission__reject" };
    default:
      return { variant: "secondary" };
  }
}

export function PermissionPrompt({ item, onAnswer, onOpenLocation }: PermissionPromptProps) {
  const [answering, setAnswering] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const titleId = useId();
  const resolution = resolutionLabel(item);
  const { call } = item;
  const diffs = call.content.flatMap((content) => (content.type === "diff" ? [content] : []));

  // An answer from elsewhere (terminal, notification) ends ours too.
  useEffect(() => {
    if (!item.open) setAnswering(null);
  }, [item.open]);

  async function answer(optionId: string) {
    setAnswering(optionId);
    setError(null);
    try {
      await onAnswer(item.request, optionId);
    } catch (caught) {
      setAnswering(null);
      setError(caught instanceof Error ? caught.message : "The answer did not reach the agent.");
    }
  }

  const tone = item.open ? "open" : item.outcome?.outcome === "selected" ? "answered" : "closed";
  return (
    <section className={`chat-permission chat-permission--${tone}`} aria-labelledby={titleId} data-testid="chat-permission">
      <p id={titleId} className="chat-permission__title">
        {`${item.open ? "The agent asks to" : "The agent asked to"} ${toolKindLabel(call.kind).toLowerCase()}: `}
        <strong>{call.title || "use a tool"}</strong>
      </p>
      <ToolLocations locations={call.locations} onOpenLocation={onOpenLocation} />
      {item.open
        ? diffs.map((diff, index) => <DiffView key={`${diff.path}:${index}`} path={diff.path} oldText={diff.oldText} newText={diff.newText} />)
        : null}
      {item.open ? (
        <div className="chat-permission__options" role="group" aria-label="Your answer">
          {item.options.map((option) => {
            const { variant, className } = variantOf(option);
            return (
              <Button
                key={option.option_id}
                variant={variant}
                className={["button--small", className].filter(Boolean).join(" ")}
                disabled={answering !== null}
                data-kind={option.kind}
                onClick={() => void answer(option.option_id)}
              >
                {answering === option.option_id ? `${option.name}…` : option.name}
              </Button>
            );
          })}
          {item.options.length === 0 ? <p className="muted small">The agent offered no options; answer it from its terminal.</p> : null}
        </div>
      ) : (
        <p className="chat-permission__resolution" role="status" data-testid="chat-permission-resolution">
          {resolution}
        </p>
      )}
      {error ? (
        <p className="field__error" role="alert">
          Could not answer: {error}
        </p>
      ) : null}
    </section>
  );
}
