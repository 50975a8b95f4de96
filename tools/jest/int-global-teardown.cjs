// Stops the containers that the integration global set-up started (if any).
module.exports = async function globalTeardown() {
  for (const container of globalThis.__studioContainers ?? []) await container.stop();
};
