/** Node-only parts of the HUD client (`@accounting/hud-client/node`). */
export { createFileStorage } from './fileStorage.js';
