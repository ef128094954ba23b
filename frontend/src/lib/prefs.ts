// Language and theme, persisted in localStorage.
import type { Lang } from "./i18n";

export type Theme = "system" | "light" | "dark";

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}
function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // private mode: not persisted
  }
}

export function initialLang(): Lang {
  const saved = read("enkisys.lang");
  if (saved === "en" || saved === "es") return saved;
  return navigator.language?.toLowerCase().startsWith("es") ? "es" : "en";
}
export function saveLang(l: Lang): void {
  write("enkisys.lang", l);
  document.documentElement.lang = l;
}

export function initialTheme(): Theme {
  const saved = read("enkisys.theme");
  return saved === "light" || saved === "dark" ? saved : "system";
}
export function applyTheme(t: Theme): void {
  write("enkisys.theme", t);
  if (t === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
}
