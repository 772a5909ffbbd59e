import { verifyGraphContractAfterAll } from './graph-contract';

// Every test file: each request sent to a GraphFake is checked after the file against Microsoft's description
// of Graph and against the permissions in infra/graph-permissions.json, however jest schedules the files.
verifyGraphContractAfterAll();
