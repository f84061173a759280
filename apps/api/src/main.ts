import { X } from '@hookrunner/contracts'; console.log(X);
