import { render } from 'preact';
import { App } from './App';
import './styles.css';

/** How tenant and role are set: the BFF says (`/backoffice/config.json`); unknown means the gateway. */
async function identityMode(): Promise<'picker' | 'gateway'> {
  try {
    const res = await fetch('/backoffice/config.json', { headers: { Accept: 'application/json' } });
    const body = (await res.json()) as { identity?: unknown };
    return body.identity === 'picker' ? 'picker' : 'gateway';
  } catch {
    return 'gateway';
  }
}

const root = document.getElementById('app');
if (root) {
  void identityMode().then((mode) => render(<App mode={mode} />, root));
}
