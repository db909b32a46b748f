use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Endpoints {
    Table,
    // bearer_token, basic or client_certificate (Kubernetes endpoints)
    AuthMethod,
    // the default namespace (Kubernetes endpoints)
    Namespace,
    // CA certificates, PEM (public)
    CaData,
    // the client certificate, PEM (public; its key is the sealed secret)
    ClientCertificate,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // one column per statement: SQLite alters one thing at a time
        for column in [
            string_len_null(Endpoints::AuthMethod, 32),
            string_len_null(Endpoints::Namespace, 63),
            text_null(Endpoints::CaData),
            text_null(Endpoints::ClientCertificate),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Endpoints::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Endpoints::AuthMethod,
            Endpoints::Namespace,
            Endpoints::CaData,
            Endpoints::ClientCertificate,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Endpoints::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
