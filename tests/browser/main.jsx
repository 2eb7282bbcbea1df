// The h5web app as a user gets it (@h5web/app + @h5web/h5wasm), opening the
// HDF5 file named by ?file= from the same origin. run.mjs serves both.
import { App } from '@h5web/app';
import { H5WasmBufferProvider } from '@h5web/h5wasm';
import '@h5web/app/styles.css';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';

const name = new URLSearchParams(location.search).get('file') || 'run.h5';

function Viewer() {
  const [buffer, setBuffer] = useState();
  const [error, setError] = useState();
  useEffect(() => {
    fetch(name)
      .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`${name}: HTTP ${r.status}`))))
      .then(setBuffer, (e) => setError(String(e)));
  }, []);
  if (error) return <p id="load-error">{error}</p>;
  if (!buffer) return <p>loading {name}</p>;
  return (
    <H5WasmBufferProvider filename={name} buffer={buffer}>
      <App />
    </H5WasmBufferProvider>
  );
}

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <Viewer />
  </StrictMode>,
);
