// s3rver.js - starts the pinned s3rver (tests/s3/package-lock.json) the way
// its command line would: the published package has lib/cli.js but not the
// bin/s3rver.js its package.json names. scripts/s3-server.sh runs this.
'use strict';
require('./node_modules/@20minutes/s3rver/lib/cli.js').parseAsync(process.argv);
