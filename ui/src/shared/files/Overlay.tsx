import { useRef, type ReactNode, type RefObject } from "react";
import { useModalFocus } from "../ui/useModalFocus";

type OverlayProps = {
  /** Names the dialog. */
  labelledBy?: string;
  label?: string;
  className: string;
  onClose: () => void;
  /** What gets focus on open; the first focusable element otherwise. */
  initialFocus?: RefObject<HTMLElement | null>;
  children: ReactNode;
  "data-testid"?: string;
};

/**
 * A modal layer: focus moves in, Tab stays inside, Escape and a click outside close it, and focus
 * goes back where it was on close. Escape is marked handled, so the app's own Escape (back to the
 * chat) does not also fire.
 */
export function Overlay({ labelledBy, label, className, onClose, initialFocus, children, ...rest }: OverlayProps) {
  const ref = useRef<HTMLDivElement>(null);

  const onKeyDown = useModalFocus(ref, { initialFocus, onClose });

  return (
    <div
      className="goto-backdrop"
      onMouseDown={(event) => {
        if (event.target === event.currentTarget) onClose();
      }}
    >
      <div
        ref={ref}
        className={className}
        role="dialog"
        aria-modal="true"
        aria-labelledby={labelledBy}
        aria-label={labelledBy ? undefined : label}
        tabIndex={-1}
        onKeyDown={onKeyDown}
        data-testid={rest["data-testid"]}
      >
        {children}
      </div>
    </div>
  );
}
