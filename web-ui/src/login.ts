// The login form. On success it tells the shell (event mm-logged-in) with the user and CSRF token.
import { html, css } from 'lit';
import { api } from './api.ts';
import { describeFailure } from './failure.ts';
import { field } from './field.ts';
import { I18nElement, t } from './i18n.ts';
import { shared } from './styles.ts';

export class MmLogin extends I18nElement {
  static override properties = { username: { state: true }, password: { state: true }, error: { state: true }, busy: { state: true } };
  declare username: string;
  declare password: string;
  declare error: string;
  declare busy: boolean;
  static override styles = [shared, css`section.card { max-width: 24rem; margin: 3rem auto; }`];

  constructor() {
    super();
    this.username = '';
    this.password = '';
    this.error = '';
    this.busy = false;
  }

  async #submit(e: Event): Promise<void> {
    e.preventDefault();
    this.busy = true;
    this.error = '';
    try {
      const s = await api('POST', '/api/session', { username: this.username, password: this.password });
      this.dispatchEvent(new CustomEvent('mm-logged-in', { detail: s, bubbles: true, composed: true }));
    } catch (err) {
      this.error = describeFailure(err).text;
    } finally {
      this.busy = false;
    }
  }

  override render() {
    return html`<section class="card"><h1>${t('login.title')}</h1>
      <form @submit=${(e: Event) => this.#submit(e)}>
        ${field({ label: t('login.username'), value: this.username, name: 'username', autocomplete: 'username', onInput: (v) => { this.username = v; } })}
        ${field({ label: t('login.password'), value: this.password, name: 'password', type: 'password', autocomplete: 'current-password', onInput: (v) => { this.password = v; } })}
        ${this.error ? html`<p class="banner error" role="alert">${this.error}</p>` : ''}
        <div class="actions"><button type="submit" ?disabled=${this.busy}>${t('login.submit')}</button></div>
      </form></section>`;
  }
}
customElements.define('mm-login', MmLogin);
