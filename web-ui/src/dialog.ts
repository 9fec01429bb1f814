// The console's one modal dialog, on the native <dialog>: the browser makes the page behind it
// inert and keeps focus inside, Escape cancels, and the dialog is labelled by its heading (and
// described by its question). Focus goes to the first field (or, for a question, to Cancel, the
// safe answer) and back to where it was when the dialog closes. It either asks a question itself
// (confirmDialog) or frames the caller's own form, slotted in; either way it reports `mm-close`
// with the return value ('confirm', or '' when cancelled).
import { css, html, nothing } from 'lit';
import { I18nElement, t } from './i18n.ts';
import { shared } from './styles.ts';

/** The focused element, looking into shadow roots (the console's pages live in them). */
function deepActive(): HTMLElement | null {
  let el = document.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return el as HTMLElement | null;
}

export class MmDialog extends I18nElement {
  static override properties = { heading: {}, message: {}, confirmLabel: {}, danger: { type: Boolean }, open: { type: Boolean } };
  declare heading: string;
  declare message: string;
  declare confirmLabel: string;
  declare danger: boolean;
  declare open: boolean;
  #returnTo: HTMLElement | null = null;
  static override styles = [shared, css`
    dialog { border: none; border-radius: 8px; padding: 1rem 1.2rem; width: min(32rem, calc(100vw - 2rem)); box-sizing: border-box; box-shadow: 0 8px 32px rgba(0,0,0,.3); }
    dialog::backdrop { background: rgba(18, 50, 90, .45); }
    h2 { margin-top: 0; }
    .actions { justify-content: flex-end; }
  `];

  constructor() {
    super();
    this.heading = '';
    this.message = '';
    this.confirmLabel = '';
    this.danger = false;
    this.open = false;
  }

  override updated(): void {
    const d = this.renderRoot.querySelector('dialog')!;
    if (this.open && !d.open) {
      this.#returnTo = deepActive();
      d.returnValue = '';
      d.showModal();
      const slotted = this.renderRoot.querySelector('slot')?.assignedElements({ flatten: true }) ?? [];
      const first = this.confirmLabel
        ? this.renderRoot.querySelector<HTMLElement>('button[value=cancel]')
        : slotted.map((el) => (el.matches('input, select, textarea') ? el as HTMLElement : el.querySelector<HTMLElement>('input, select, textarea, button'))).find(Boolean);
      first?.focus();
    } else if (!this.open && d.open) {
      d.close();
    }
  }

  #closed(d: HTMLDialogElement): void {
    this.open = false;
    this.dispatchEvent(new CustomEvent('mm-close', { detail: d.returnValue }));
    const back = this.#returnTo;
    this.#returnTo = null;
    if (back?.isConnected) back.focus();
  }

  override render() {
    return html`<dialog aria-labelledby="heading" aria-describedby=${this.confirmLabel ? 'message' : nothing} @close=${(e: Event) => this.#closed(e.target as HTMLDialogElement)}>
      <h2 id="heading">${this.heading}</h2>
      ${this.confirmLabel ? html`<p id="message">${this.message}</p>
        <form method="dialog" class="actions">
          <button value="cancel" class="secondary">${t('common.cancel')}</button>
          <button value="confirm" class=${this.danger ? 'danger' : ''}>${this.confirmLabel}</button>
        </form>` : html`<slot></slot>`}
    </dialog>`;
  }
}
customElements.define('mm-dialog', MmDialog);

/** Asks a yes/no question in a modal dialog; true when confirmed (false on Cancel or Escape). */
export function confirmDialog(o: { heading: string; message: string; confirmLabel: string; danger?: boolean }): Promise<boolean> {
  const el = document.createElement('mm-dialog') as MmDialog;
  Object.assign(el, { ...o, danger: o.danger ?? false, open: true });
  return new Promise((resolve) => {
    el.addEventListener('mm-close', (e) => {
      el.remove();
      resolve((e as CustomEvent<string>).detail === 'confirm');
    }, { once: true });
    document.body.append(el);
  });
}
