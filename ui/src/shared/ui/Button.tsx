import type { ButtonHTMLAttributes, ReactNode, Ref } from "react";

type ButtonProps = Omit<ButtonHTMLAttributes<HTMLButtonElement>, "type"> & {
  variant?: "primary" | "secondary" | "ghost" | "danger";
  /** React 19 passes refs to function components as a plain prop. */
  ref?: Ref<HTMLButtonElement>;
  type?: "button" | "submit";
  /**
   * Shown as unavailable but kept focusable (aria-disabled) so keyboard and
   * screen-reader users can still reach it and read its description.
   */
  unavailable?: boolean;
  children: ReactNode;
};

export function Button({
  variant = "secondary",
  type = "button",
  unavailable = false,
  className,
  onClick,
  children,
  ...rest
}: ButtonProps) {
  const classes = ["button", `button--${variant}`, className].filter(Boolean).join(" ");
  return (
    <button
      {...rest}
      type={type}
      className={classes}
      aria-disabled={unavailable || undefined}
      onClick={unavailable ? (event) => event.preventDefault() : onClick}
    >
      {children}
    </button>
  );
}
