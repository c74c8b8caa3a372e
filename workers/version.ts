/** The engine's version, reported by /health, the OpenAPI document and the traces' service.version. */
export const VERSION = '0.1.0';
