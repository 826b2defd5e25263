import { useId, useRef, type ReactNode, type RefObject } from "react";
import { useModalFocus } from "./useModalFocus";

type DialogProps = {
  title: string;
  children?: ReactNode;
  /** The buttons, last in the tab order. */
  actions: ReactNode;
  /** Called on Escape (and by the caller's own cancel button). */
  onClose: () => void;
  /** "alertdialog" for confirmations of destructive actions. */
  role?: "dialog" | "alertdialog";
  /** What gets focus when the dialog opens; the first focusable element otherwise. */
  initialFocus?: RefObject<HTMLElement | null>;
  /** Where focus goes on close when the element that had it before is gone. */
  fallbackFocus?: () => HTMLElement | null | undefined;
  /** The id of what describes the dialog; its whole body when not given (set it for forms). */
  describedBy?: string;
  /** "wide" for forms. */
  size?: "normal" | "wide";
  "data-testid"?: string;
};


/**
 * A modal dialog: focus moves into it, Tab stays inside it, Escape closes it, and focus returns
 * to where it was (or to `fallbackFocus`) when it closes.
 */
export function Dialog({
  title,
  children,
  actions,
  onClose,
  role = "dialog",
  initialFocus,
  fallbackFocus,
  size = "normal",
  describedBy,
  ...rest
}: DialogProps) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const bodyId = useId();
  const onKeyDown = useModalFocus(ref, { initialFocus, fallbackFocus, onClose });

  return (
    <div className="dialog-backdrop">
      <div
        ref={ref}
        className={size === "wide" ? "dialog dialog--wide" : "dialog"}
        role={role}
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={describedBy ?? (children ? bodyId : undefined)}
        tabIndex={-1}
        onKeyDown={onKeyDown}
        data-testid={rest["data-testid"]}
      >
        <h2 id={titleId} className="dialog__title">
          {title}
        </h2>
        {children ? (
          <div id={bodyId} className="dialog__body">
            {children}
          </div>
        ) : null}
        <div className="dialog__actions">{actions}</div>
      </div>
    </div>
  );
}
