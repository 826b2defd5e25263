export { Banner, type BannerTone } from "./Banner";
export { Button } from "./Button";
export { Dialog } from "./Dialog";
export { EmptyState } from "./EmptyState";
export { ErrorAlert } from "./ErrorAlert";
export * from "./icons";
