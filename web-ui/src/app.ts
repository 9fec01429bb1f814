// The console shell: decides between the setup wizard (setup mode), the login page and the
// console itself; shows the pages the user's role may use, routed by the URL's #fragment.
import { html, css } from 'lit';
import { api, setCsrf, ApiFailure } from './api.ts';
import { setTimeZones, type TimeZones } from './dates.ts';
import { I18nElement, lang, setLanguage, t } from './i18n.ts';
import { shared } from './styles.ts';
import type { MessageKey } from '../../appliance/i18n/catalog.ts';

export interface SessionUser { id: string; username: string; role: 'admin' | 'domain-admin' | 'user'; domains: string[]; language: 'ja' | 'en' }
interface Session { user: SessionUser; csrfToken: string; timeZones: TimeZones }

interface Page { id: string; label: MessageKey; roles: SessionUser['role'][]; tag: string }
const PAGES: Page[] = [
  { id: 'dashboard', label: 'nav.dashboard', roles: ['admin', 'domain-admin', 'user'], tag: 'mm-dashboard' },
  { id: 'domains', label: 'nav.domains', roles: ['admin', 'domain-admin'], tag: 'mm-domains' },
  { id: 'dns', label: 'nav.dnsRecords', roles: ['admin', 'domain-admin'], tag: 'mm-dns-records' },
  { id: 'filtering', label: 'nav.filtering', roles: ['admin', 'domain-admin'], tag: 'mm-filtering' },
  { id: 'policy', label: 'nav.policy', roles: ['admin', 'domain-admin'], tag: 'mm-policy' },
  { id: 'lists', label: 'nav.lists', roles: ['admin', 'domain-admin', 'user'], tag: 'mm-lists' },
  { id: 'quarantine', label: 'nav.quarantine', roles: ['admin', 'domain-admin', 'user'], tag: 'mm-quarantine' },
  { id: 'training', label: 'nav.training', roles: ['admin', 'domain-admin'], tag: 'mm-training' },
  { id: 'messages', label: 'nav.messages', roles: ['admin', 'domain-admin', 'user'], tag: 'mm-messages' },
  { id: 'statistics', label: 'nav.statistics', roles: ['admin', 'domain-admin'], tag: 'mm-statistics' },
  { id: 'reports', label: 'nav.reports', roles: ['admin', 'domain-admin', 'user'], tag: 'mm-reports' },
  { id: 'queue', label: 'nav.queue', roles: ['admin', 'domain-admin'], tag: 'mm-queue' },
  { id: 'audit', label: 'nav.audit', roles: ['admin', 'domain-admin'], tag: 'mm-audit' },
  { id: 'users', label: 'nav.users', roles: ['admin', 'domain-admin'], tag: 'mm-users' },
  { id: 'system', label: 'nav.system', roles: ['admin'], tag: 'mm-system' },
  { id: 'update', label: 'nav.update', roles: ['admin'], tag: 'mm-update' },
  { id: 'account', label: 'nav.account', roles: ['admin', 'domain-admin', 'user'], tag: 'mm-account' },
];

export class MmApp extends I18nElement {
  static override properties = { mode: { state: true }, user: { state: true }, route: { state: true }, menuOpen: { state: true } };
  declare mode: 'loading' | 'setup' | 'login' | 'console' | 'error';
  declare user: SessionUser | null;
  declare route: string;
  declare menuOpen: boolean;

  static override styles = [shared, css`
    header { display: flex; align-items: center; gap: 1rem; background: #12325a; color: #fff; padding: .6rem 1rem; }
    header .brand { font-weight: 700; font-size: 1.1rem; }
    header .who { margin-left: auto; font-size: .9rem; display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; justify-content: flex-end; }
    header select { width: auto; padding: .2rem; }
    .layout { display: flex; min-height: calc(100vh - 3rem); }
    nav { width: 13rem; background: #fff; border-right: 1px solid #d8dee6; padding: .8rem 0; }
    nav a { display: block; padding: .55rem 1.2rem; color: #1c2430; text-decoration: none; }
    nav a[aria-current=page] { background: #e3edf8; font-weight: 600; border-left: 4px solid #1d5fa8; }
    main { flex: 1; padding: 1.2rem; min-width: 0; max-width: 70rem; }
    .menu-button { display: none; background: transparent; border-color: #fff; }
    @media (max-width: 760px) {
      /* At 390 px the header holds the menu button, the name, the language and log out: tighter, and the button's label on one line. */
      header { gap: .5rem; padding: .5rem .6rem; }
      .menu-button { display: inline-block; white-space: nowrap; flex: none; padding: .4rem .6rem; }
      .layout { display: block; }
      nav { width: auto; display: none; border-right: 0; border-bottom: 1px solid #d8dee6; }
      nav.open { display: block; }
      header .who span { display: none; }
      main { padding: .8rem; }
    }
  `];

  constructor() {
    super();
    this.mode = 'loading';
    this.user = null;
    this.route = location.hash.slice(2) || 'dashboard';
    this.menuOpen = false;
    window.addEventListener('hashchange', () => { this.route = location.hash.slice(2) || 'dashboard'; this.menuOpen = false; });
    window.addEventListener('mm-logged-out', () => { if (this.mode === 'console') { this.user = null; this.mode = 'login'; } });
    this.addEventListener('mm-logged-in', (e) => this.#loggedIn((e as CustomEvent<Session>).detail));
    void this.#start();
  }

  async #start(): Promise<void> {
    try {
      const status = await api<{ setup: boolean; language: 'ja' | 'en' }>('GET', '/api/status');
      setLanguage(status.language);
      if (status.setup) { this.mode = 'setup'; return; }
      try {
        const s = await api<Session>('GET', '/api/session');
        this.#loggedIn(s);
      } catch (err) {
        if (err instanceof ApiFailure && err.status === 401) this.mode = 'login';
        else throw err;
      }
    } catch {
      this.mode = 'error';
    }
  }

  #loggedIn(s: Session): void {
    setCsrf(s.csrfToken);
    setTimeZones(s.timeZones);
    setLanguage(s.user.language);
    this.user = s.user;
    this.mode = 'console';
    if (!location.hash) location.hash = '#/dashboard';
  }

  async #logout(): Promise<void> {
    await api('DELETE', '/api/session').catch(() => undefined);
    setCsrf(null);
    this.user = null;
    this.mode = 'login';
  }

  async #changeLanguage(next: 'ja' | 'en'): Promise<void> {
    setLanguage(next);
    if (this.user) await api('PATCH', '/api/me', { language: next }).catch(() => undefined);
  }

  #languagePicker() {
    return html`<label class="flush"><span class="sr-only">${t('common.language')}</span>
      <select @change=${(e: Event) => this.#changeLanguage((e.target as HTMLSelectElement).value as 'ja' | 'en')}>
        <option value="ja" ?selected=${lang() === 'ja'}>日本語</option>
        <option value="en" ?selected=${lang() === 'en'}>English</option>
      </select></label>`;
  }

  override render() {
    if (this.mode === 'loading') return html`<p class="pad">${t('common.loading')}</p>`;
    if (this.mode === 'error') return html`<p class="banner error" role="alert">${t('error.network')}</p>`;
    if (this.mode === 'setup') return html`<mm-wizard></mm-wizard>`;
    if (this.mode === 'login' || !this.user) {
      return html`<header><span class="brand">${t('app.console')}</span><span class="who">${this.#languagePicker()}</span></header><mm-login></mm-login>`;
    }
    const user = this.user;
    const pages = PAGES.filter((p) => p.roles.includes(user.role));
    const page = pages.find((p) => p.id === this.route) ?? pages[0];
    return html`
      <header>
        <button class="menu-button" aria-expanded=${this.menuOpen ? 'true' : 'false'} @click=${() => { this.menuOpen = !this.menuOpen; }}>☰ ${t('nav.menu')}</button>
        <span class="brand">${t('app.name')}</span>
        <span class="who"><span>${user.username} (${t(`role.${user.role}` as MessageKey)})</span> ${this.#languagePicker()}
          <button class="secondary" @click=${() => this.#logout()}>${t('nav.logout')}</button></span>
      </header>
      <div class="layout">
        <nav class=${this.menuOpen ? 'open' : ''} aria-label=${t('nav.menu')}>
          ${pages.map((p) => html`<a href="#/${p.id}" aria-current=${p === page ? 'page' : 'false'}>${t(p.label)}</a>`)}
        </nav>
        <main id="main">${this.#page(page, user)}</main>
      </div>`;
  }

  #page(page: Page, user: SessionUser) {
    switch (page.tag) {
      case 'mm-dashboard': return html`<mm-dashboard .user=${user}></mm-dashboard>`;
      case 'mm-domains': return html`<mm-domains .user=${user}></mm-domains>`;
      case 'mm-users': return html`<mm-users .user=${user}></mm-users>`;
      case 'mm-system': return html`<mm-system></mm-system>`;
      case 'mm-account': return html`<mm-account .user=${user}></mm-account>`;
      case 'mm-quarantine': return html`<mm-quarantine .user=${user}></mm-quarantine>`;
      case 'mm-lists': return html`<mm-lists .user=${user}></mm-lists>`;
      case 'mm-training': return html`<mm-training></mm-training>`;
      case 'mm-messages': return html`<mm-messages .user=${user}></mm-messages>`;
      case 'mm-statistics': return html`<mm-statistics .user=${user}></mm-statistics>`;
      case 'mm-audit': return html`<mm-audit></mm-audit>`;
      case 'mm-queue': return html`<mm-queue .user=${user}></mm-queue>`;
      case 'mm-filtering': return html`<mm-filtering .user=${user}></mm-filtering>`;
      case 'mm-reports': return html`<mm-reports .user=${user}></mm-reports>`;
      case 'mm-dns-records': return html`<mm-dns-records></mm-dns-records>`;
      case 'mm-update': return html`<mm-update></mm-update>`;
      default: return html`<mm-unavailable .title=${t(page.label)}></mm-unavailable>`;
    }
  }
}
customElements.define('mm-app', MmApp);
