#!/usr/bin/env node
// The `mailmoat` command. The appliance is TypeScript run by Node 24's type stripping.
await import('../appliance/cli/mailmoat.ts');
