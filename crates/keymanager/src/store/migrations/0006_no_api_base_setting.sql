-- The Envato API address is no longer a setting: KeyManager talks to https://api.envato.com, and
-- only a developer override (never stored) points a run at the sandbox. A stored address would
-- otherwise receive the seller's token.
DELETE FROM settings WHERE key = 'envato_api_base';
