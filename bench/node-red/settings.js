// Node-RED settings for the bench's yardstick (`bench --only node-red`): the
// flow's HTTP endpoint on loopback and nothing else. No editor and no admin
// API, logs at `warn`, no flow or context written to disk.
module.exports = {
    uiHost: '127.0.0.1',
    uiPort: Number(process.env.PORT),
    httpAdminRoot: false,
    httpNodeRoot: '/',
    disableEditor: true,
    // The flow file is read only: a run never deploys.
    flowFilePretty: false,
    credentialSecret: false,
    logging: {
        console: { level: 'warn', metrics: false, audit: false },
    },
    contextStorage: { default: { module: 'memory' } },
    functionExternalModules: false,
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
    runtimeState: { enabled: false },
};
