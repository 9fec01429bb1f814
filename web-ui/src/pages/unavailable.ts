// Placeholder for a page whose back-end has not landed in this appliance build yet.
import { html } from 'lit';
import { I18nElement, t } from '../i18n.ts';
import { shared } from '../styles.ts';

export class MmUnavailable extends I18nElement {
  static override properties = { title: {} };
  declare title: string;
  static override styles = [shared];
  override render() {
    return html`<h1>${this.title}</h1><section class="card"><p>${t('common.notAvailable')}</p></section>`;
  }
}
customElements.define('mm-unavailable', MmUnavailable);
