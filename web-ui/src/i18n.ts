// The console's current language (the user's own, or the appliance default before login) and
// translation through the shared catalog. Components extending I18nElement re-render when the
// language changes.
import { LitElement } from 'lit';
import { translate, type Language, type MessageKey, isMessageKey } from '../../appliance/i18n/catalog.ts';

let current: Language = 'ja';

export function lang(): Language {
  return current;
}

export function setLanguage(next: Language): void {
  if (next === current) return;
  current = next;
  document.documentElement.lang = next;
  window.dispatchEvent(new Event('mm-language'));
}

export function t(key: MessageKey, params?: Record<string, string | number>): string {
  return translate(current, key, params);
}

/** The catalog's text for an error code, for failures without the API's own message (no answer at all). */
export function errorText(code: string, message: string): string {
  const key = `error.${code}`;
  return isMessageKey(key) ? translate(current, key) : message;
}

export class I18nElement extends LitElement {
  #onLanguage = () => this.requestUpdate();
  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('mm-language', this.#onLanguage);
  }
  override disconnectedCallback(): void {
    window.removeEventListener('mm-language', this.#onLanguage);
    super.disconnectedCallback();
  }
}
