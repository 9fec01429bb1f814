// Entry point of the web console bundle: registers every component; <mm-app> in index.html starts.
import './app.ts';
import './login.ts';
import './wizard.ts';
import './pages/dashboard.ts';
import './pages/domains.ts';
import './pages/users.ts';
import './pages/system.ts';
import './pages/account.ts';
import './pages/quarantine.ts';
import './pages/lists.ts';
import './pages/training.ts';
import './pages/messages.ts';
import './pages/audit.ts';
import './pages/filtering.ts';
import './pages/policy.ts';
import './pages/unavailable.ts';
