'use strict';
require('./server')('vagrant');
