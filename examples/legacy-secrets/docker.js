'use strict';
require('./server')('docker');
