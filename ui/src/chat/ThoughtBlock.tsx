import { useId } from "react";
import { useExpanded } from "./expansion";
import { Markdown } from "./Markdown";

type ThoughtBlockProps = {
  id: string;
  text: string;
  /** Still arriving. */
  streaming?: boolean;
  onOpenLink?: (url: string) => void;
};

/** The agent's reasoning: collapsed; its text is rendered only when opened. */
export function ThoughtBlock({ id, text, streaming = false, onOpenLink }: ThoughtBlockProps) {
  const [open, toggle] = useExpanded(`${id}:thought`);
  const bodyId = useId();
  return (
    <div className="chat-thought" data-testid="chat-thought">
      <button type="button" className="chat-disclosure" aria-expanded={open} aria-controls={open ? bodyId : undefined} onClick={toggle}>
        {streaming ? "Thinking…" : "Thought"}
      </button>
      {open ? (
        <div id={bodyId} className="chat-thought__body">
          <Markdown text={text} onOpenLink={onOpenLink} highlight={!streaming} />
        </div>
      ) : null}
    </div>
  );
}
