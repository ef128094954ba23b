import { Component, type ReactNode } from "react";

interface Props {
  children: ReactNode;
  message: string;
  reload: string;
}

// Never a blank page: a render error shows a message and a reload button.
export class ErrorBoundary extends Component<Props, { error: Error | null }> {
  state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div role="alert" className="panel error-page">
        <p>{this.props.message}</p>
        <pre className="muted">{this.state.error.message}</pre>
        <button type="button" onClick={() => window.location.reload()}>
          {this.props.reload}
        </button>
      </div>
    );
  }
}
