// A minimal history router under the stage base path.
import { basePath } from "./base";

export function currentRoute(): string {
  const base = basePath();
  const p = window.location.pathname;
  return p.startsWith(base) ? p.slice(base.length) : p.replace(/^\/+/, "");
}

export function hrefOf(route: string): string {
  return basePath() + route.replace(/^\/+/, "");
}
