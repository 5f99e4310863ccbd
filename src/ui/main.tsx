/**
 * Browser entry: one generation worker for the page, then React.
 */
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { createGenerateClient } from '../workers/generate-client.ts'
import { createAppActions } from './app-actions.ts'
import { App } from './app.tsx'
import './styles.css'

// Outside React: StrictMode mounts components twice, and there must be one worker.
const actions = createAppActions(createGenerateClient())

const container = document.getElementById('root')
if (container === null) throw new Error('index.html has no #root element')
createRoot(container).render(
  <StrictMode>
    <App actions={actions} />
  </StrictMode>
)
