import { Component, type ErrorInfo, type ReactNode } from 'react'

/** Props of {@link PanelBoundary}. */
export interface PanelBoundaryProps {
  /** The panel's name, as the user knows it ("Network"). */
  readonly name: string
  readonly children: ReactNode
}

interface PanelBoundaryState {
  readonly error: Error | null
}

/**
 * One per panel: a bug in one panel shows a message there and leaves the others (and the
 * chat) working. "Show it again" re-mounts the panel.
 */
export class PanelBoundary extends Component<PanelBoundaryProps, PanelBoundaryState> {
  override state: PanelBoundaryState = { error: null }

  static getDerivedStateFromError (error: Error): PanelBoundaryState {
    return { error }
  }

  override componentDidCatch (error: Error, info: ErrorInfo): void {
    console.error(`The ${this.props.name} panel failed`, error, info.componentStack)
  }

  override render (): ReactNode {
    const { error } = this.state
    if (error === null) return this.props.children
    return (
      <section className='panel' aria-label={this.props.name}>
        <div role='alert' className='alert'>
          <p><strong>The {this.props.name} panel stopped working</strong> ({error.message}). The rest of the page still works; nothing you sent was affected.</p>
          <button type='button' onClick={() => { this.setState({ error: null }) }}>Show it again</button>
        </div>
      </section>
    )
  }
}
